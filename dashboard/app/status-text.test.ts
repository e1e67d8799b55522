import assert from 'node:assert/strict';
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import { phaseText, waitingText } from './status-text.js';

const base = {
  phase: 'waiting-for-clients',
  currentRound: null,
  connectedClients: 1,
  minClients: 3,
  minResults: 2,
  modelVersion: 0,
} as unknown as CoordinatorStatus;

describe('dashboard: status in words', () => {
  it('says how many more clients a waiting coordinator needs', () => {
    assert.equal(waitingText(base, null), '2 more clients (min-clients 3, 1 connected)');
    assert.equal(waitingText({ ...base, connectedClients: 2 }, null), '1 more client (min-clients 3, 2 connected)');
  });

  it('names the round while one runs, and the pause between rounds once the model has moved', () => {
    const current = { roundId: 7, modelVersion: 4, selected: ['a', 'b', 'c'], deadline: Date.now() };
    const running = { ...base, phase: 'fit', currentRound: { roundId: 7, startedAt: 0, deadline: 0, selected: [] }, modelVersion: 4 } as CoordinatorStatus;
    assert.equal(phaseText(running), 'fit · round 7');
    assert.match(waitingText(running, current), /^3 selected clients until .+ \(2 results needed\)$/);
    assert.equal(phaseText({ ...base, phase: 'idle', modelVersion: 4 }), 'between rounds');
    assert.equal(phaseText({ ...base, phase: 'idle' }), 'idle');
    assert.equal(waitingText({ ...base, phase: 'idle' }, null), 'nobody');
  });
});
