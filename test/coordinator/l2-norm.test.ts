import assert from 'node:assert/strict';
import { l2Norm } from '@fedrec/coordinator/strategy/update-policy.js';

describe('coordinator: l2Norm (four interleaved float64 sums)', () => {
  it('agrees with one running sum to float64 rounding at every length mod 4, and propagates NaN and Infinity', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100_003]) {
      const v = Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + 0.1) * (i % 5 === 0 ? 1e30 : 1));
      let s = 0;
      for (const x of v) s += x * x;
      const norm = l2Norm(v);
      assert.ok(n === 0 ? norm === 0 : Math.abs(norm / Math.sqrt(s) - 1) < 1e-12, `n ${n}: ${norm} against ${Math.sqrt(s)}`);
      if (n === 0) continue;
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const w = v.slice();
        w[n - 1] = bad; // the tail loop for n % 4 != 0, a lane otherwise
        assert.equal(Number.isFinite(l2Norm(w)), false, `n ${n} with ${bad}`);
      }
    }
  });
});
