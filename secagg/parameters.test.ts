import assert from 'node:assert/strict';
import { binomialTail, parametersForDegree, secAggPlusParameters } from './index.js';

describe('secagg+ parameters (Bell et al. 2020)', () => {
  it('binomial tails match closed forms', () => {
    assert.equal(binomialTail(10, 0.5, 0), 1);
    assert.ok(Math.abs(binomialTail(10, 0.5, 10) - 2 ** -10) < 1e-15);
    assert.ok(Math.abs(binomialTail(4, 0.3, 1) - (1 - 0.7 ** 4)) < 1e-12);
    assert.equal(binomialTail(5, 0.5, 6), 0);
  });

  it('meets the targets it states: failure ≤ 2^-20, split ≤ 2^-20, corrupt neighbours < t w.p. 1 − 2^-40/n', () => {
    for (const n of [100, 300, 1000]) {
      for (const dropoutRate of [0, 0.1, 0.3]) {
        const p = secAggPlusParameters(n, { dropoutRate, corruptionRate: 0.05 });
        assert.ok(p.meetsTargets, `${n} ${dropoutRate}`);
        assert.ok(p.failureProbability <= 2 ** -20 && p.splitProbability <= 2 ** -20);
        assert.ok(binomialTail(p.neighbours, 0.05, p.threshold) <= 2 ** -40 / n);
        assert.ok(p.threshold > p.corruptNeighbours && 2 * p.threshold > p.corruptNeighbours);
        assert.equal(p.neighbours % 2, 0);
        // The smallest such degree: two fewer neighbours misses a target.
        if (p.neighbours > 2) assert.equal(parametersForDegree(n, p.neighbours - 2, { dropoutRate, corruptionRate: 0.05 }).meetsTargets, false);
      }
    }
  });

  it('grows with dropout and shrinks relative to n (polylog)', () => {
    const at = (n: number, d: number) => secAggPlusParameters(n, { dropoutRate: d, corruptionRate: 0.05 }).neighbours;
    assert.ok(at(1000, 0.3) > at(1000, 0.1));
    assert.ok(at(1000, 0.3) / 1000 < at(100, 0.3) / 100);
  });
});
