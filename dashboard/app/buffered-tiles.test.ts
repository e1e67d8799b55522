import assert from 'node:assert/strict';
import { stalenessBars } from './buffered-tiles.js';

describe('dashboard: buffered tiles', () => {
  it('draws one bar per staleness value up to the largest seen, scaled to the fullest bin', () => {
    assert.equal(stalenessBars([8, 4, 0, 1, 0, 0]), '█▄ ▁');
    assert.equal(stalenessBars([0, 0, 0]), ' ');
  });
});
