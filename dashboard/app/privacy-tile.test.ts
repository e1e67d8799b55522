import assert from 'node:assert/strict';
import { privacyTileText } from './privacy-tile.js';

describe('dashboard: privacy tile', () => {
  it('says off without DP, the spent epsilon against the budget with it, and when the budget stopped training', () => {
    assert.equal(privacyTileText({}), 'off');
    const privacy = {
      placement: 'distributed' as const,
      clipNorm: 0.5,
      noiseMultiplier: 1,
      delta: 1e-5,
      epsilon: 3.14159,
      epsilonBudget: 8,
      roundsReleased: 4,
      halted: null,
    };
    assert.equal(privacyTileText({ privacy }), 'ε 3.14 / 8 (δ 0.00001) · distributed noise σ 1');
    assert.match(privacyTileText({ privacy: { ...privacy, halted: 'privacy budget: ...' } }), /budget reached, training stopped/);
  });
});
