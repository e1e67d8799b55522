import assert from 'node:assert/strict';
import { neighbourGraph, neighboursOfClient, seededPermutation } from './index.js';
import { ids } from './testing/helpers.js';

describe('secagg+ neighbour graph', () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7);

  it('is k-regular, symmetric and loop-free, and recomputes identically from roster and seed', () => {
    const roster = ids(101);
    const g = neighbourGraph(roster, 8, seed);
    for (const id of roster) {
      const peers = g.get(id)!;
      assert.equal(new Set(peers).size, 8);
      assert.ok(!peers.includes(id));
      for (const p of peers) assert.ok(g.get(p)!.includes(id));
    }
    assert.deepEqual(neighbourGraph([...roster].reverse(), 8, seed), g);
  });

  it('gives one client the same neighbours as the whole graph does (what a client checks its roster against)', () => {
    for (const [n, k] of [
      [101, 8],
      [5, 6],
      [30, 29],
    ] as const) {
      const roster = ids(n);
      const g = neighbourGraph(roster, k, seed);
      for (const id of roster) assert.deepEqual(neighboursOfClient([...roster].reverse(), k, seed, id), g.get(id));
    }
    assert.deepEqual(neighboursOfClient(ids(10), 4, seed, 'not-in-roster'), []);
  });

  it('is the complete graph when k ≥ n-1, and another seed gives another graph', () => {
    const small = ids(5);
    const g = neighbourGraph(small, 6, seed);
    for (const id of small) assert.equal(g.get(id)!.length, 4);
    const a = neighbourGraph(ids(50), 4, seed);
    const b = neighbourGraph(
      ids(50),
      4,
      Uint8Array.from(seed, (x) => x ^ 0xff),
    );
    assert.notDeepEqual(a, b);
  });

  it('permutes every position about equally often (no modulo bias visible)', () => {
    const roster = ids(5);
    const counts = new Map<string, number>();
    for (let s = 0; s < 2000; s++) {
      const first = seededPermutation(
        roster,
        Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? s & 0xff : i === 1 ? s >> 8 : 0)),
      )[0]!;
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    for (const id of roster) assert.ok(Math.abs(counts.get(id)! - 400) < 80, `${id}: ${counts.get(id)}`);
  });
});
