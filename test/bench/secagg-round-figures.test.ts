import assert from 'node:assert/strict';
import { criticalPath, trainingForAim } from '../../bench/secagg/round-figures.js';

/** The secure round over plain's, the same training T in both (bench/secagg/round-figures.ts, trainingForAim). */
const ratioAt = (t: number, s: { ms: number; trainingAtLeastMs: number }, plainMs: number) => (Math.max(t, s.trainingAtLeastMs) + s.ms) / (t + plainMs);

describe('bench/secagg round figures', () => {
  it('sums the slowest client and the coordinator over the stages', () => {
    assert.equal(criticalPath({ a: { clientMaxMs: 3, serverMs: 4 }, b: { clientMaxMs: 10, serverMs: 0.5, clientMedianMs: 2 } }), 17.5);
  });

  it('finds the training from which the secure round is within the aim, before and after the protocol overlaps it', () => {
    // The crossing while the device still waits on the protocol: (55 + 60) / (T + 38) = 2 at T = 19.5.
    const waiting = { ms: 60, trainingAtLeastMs: 55 };
    assert.equal(trainingForAim(waiting, 38), 19.5);
    // The crossing after it: (T + 100) / (T + 30) = 2 at T = 40, past N = 10.
    const after = { ms: 100, trainingAtLeastMs: 10 };
    assert.equal(trainingForAim(after, 30), 40);
    // Within the aim with no training at all.
    assert.equal(trainingForAim({ ms: 20, trainingAtLeastMs: 10 }, 30), 0);
    // Another aim.
    assert.equal(trainingForAim(waiting, 38, 1.5), 115 / 1.5 - 38);
  });

  it('returns the crossing itself: within the aim there, above it just before', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 200;
    for (let i = 0; i < 500; i++) {
      const s = { ms: rand() + 1, trainingAtLeastMs: rand() };
      const plainMs = rand() / 4 + 1;
      const t = trainingForAim(s, plainMs);
      assert.ok(t >= 0);
      assert.ok(ratioAt(t, s, plainMs) <= 2 + 1e-9, `ratio at ${t}`);
      if (t > 0) assert.ok(ratioAt(t * 0.999 - 1e-9, s, plainMs) > 2, `ratio just before ${t}`);
    }
  });
});
