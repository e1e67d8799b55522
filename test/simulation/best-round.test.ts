import assert from 'node:assert/strict';
import { chooseRoundOnValidation } from '@fedrec/simulate/socket/best-round.js';
import { coverageOf } from '@fedrec/simulate/socket/coverage.js';
import type { RoundRow } from '@fedrec/simulate/socket/run-simulation.js';

/** A row whose TEST metrics throw when read: selection must never touch them. */
function row(round: number, val: [number, number] | null, test: [number, number]): RoundRow {
  const r = { round, valHr10: val?.[0] ?? null, valNdcg10: val?.[1] ?? null } as Record<string, unknown>;
  for (const [key, value] of [
    ['hr10', test[0]],
    ['ndcg10', test[1]],
    ['evalLoss', 0],
  ] as const)
    Object.defineProperty(r, key, {
      get() {
        throw new Error(`selection read the test metric ${key} (${value}) of round ${round}`);
      },
    });
  return r as unknown as RoundRow;
}

describe('simulate: the reported round is chosen on validation, never on test', () => {
  it('picks the best validation HR@10 (ties: NDCG@10, then the earlier round) without reading a test metric', () => {
    // Poisoned test figures: round 3 is by far the best on test, round 2 on validation.
    const rows = [row(1, null, [0, 0]), row(2, [0.6, 0.3], [0.1, 0.05]), row(3, [0.5, 0.4], [0.99, 0.99]), row(4, [0.6, 0.2], [0.98, 0.9])];
    assert.equal(chooseRoundOnValidation(rows), 2);
    assert.equal(chooseRoundOnValidation([row(5, [0.6, 0.3], [0, 0]), row(6, [0.6, 0.3], [1, 1])]), 5);
    assert.equal(chooseRoundOnValidation([row(1, null, [1, 1])]), null);
  });

  it('says how many devices an evaluation covered and which it did not', () => {
    const users = [0, 1, 2].map((user) => ({ user, numItems: 5, trainItems: new Int32Array(), testItem: 1, testNegatives: new Int32Array() }));
    assert.deepEqual(coverageOf(users, ['user-0', 'user-2']), { devices: 3, covered: 2, missing: ['user-1'] });
    assert.deepEqual(coverageOf(users, ['user-2', 'user-1', 'user-0']), { devices: 3, covered: 3, missing: [] });
  });
});
