import assert from 'node:assert/strict';
import { RecentValues } from '@fedrec/coordinator/strategy/recent-values.js';

/** The reference: the last `window` values, sorted afresh, nearest rank. */
function naiveQuantile(values: readonly number[], window: number, q: number): number | undefined {
  const recent = values.slice(-window).sort((a, b) => a - b);
  return recent.length === 0 ? undefined : recent[Math.min(recent.length - 1, Math.max(0, Math.ceil(q * recent.length) - 1))];
}

/** A deterministic stream with many repeated values (ties are where a sorted window's eviction can go wrong). */
function stream(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % 7 === 0 ? 1 : (s % 1000) / 37;
  });
}

describe('coordinator: RecentValues (the update policy sliding windows)', () => {
  it('gives the quantiles of the last `window` values after every push, as sorting a copy does, ties and evictions included', () => {
    for (const window of [1, 3, 10, 64]) {
      const recent = new RecentValues(window);
      const seen: number[] = [];
      for (const x of stream(400, window)) {
        recent.push(x);
        seen.push(x);
        assert.equal(recent.length, Math.min(seen.length, window));
        for (const q of [0.01, 0.25, 0.5, 0.9, 0.99])
          assert.equal(recent.quantile(q), naiveQuantile(seen, window, q), `window ${window}, q ${q}, after ${seen.length}`);
      }
      assert.deepEqual(recent.values(), seen.slice(-window), 'arrival order kept');
    }
  });

  it('is empty before the first value, keeps nothing with a window of 0, and restores the last `window` values of a checkpoint', () => {
    const recent = new RecentValues(4);
    assert.equal(recent.quantile(0.5), undefined);
    const none = new RecentValues(0);
    none.push(3);
    assert.equal(none.length, 0);
    assert.equal(none.quantile(0.5), undefined);
    recent.reset([9, 1, 8, 2, 7, 3]);
    assert.deepEqual(recent.values(), [8, 2, 7, 3]);
    assert.equal(recent.quantile(0.5), 3);
    recent.push(0); // evicts 8
    assert.deepEqual(recent.values(), [2, 7, 3, 0]);
    assert.equal(recent.quantile(0.99), 7);
    assert.equal(recent.quantile(0.5), 2);
  });
});
