import { rowLayout } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol';
import type { ClientUpdate } from './round-input.js';

/**
 * Applies `reduce` to each coordinate over the updates that speak for it: every update for a plain
 * element, and for a row of a rowwise tensor only the updates that touched the row (row weight > 0);
 * a row nobody touched gets step 0. `reduce` receives the values in a scratch array it may sort.
 */
export function coordinateWise(manifest: WeightManifest, updates: readonly ClientUpdate[], reduce: (values: Float64Array) => number): Float64Array {
  const layout = rowLayout(manifest);
  const size = layout.segments.reduce((n, s) => n + s.size, 0);
  const out = new Float64Array(size);
  const scratch = new Float64Array(updates.length);
  const all = updates.map((_, i) => i);
  for (const seg of layout.segments) {
    const t = seg.table;
    if (!t) {
      if (updates.length === 0) continue;
      for (let i = seg.offset, end = seg.offset + seg.size; i < end; i++) out[i] = reduceAt(updates, all, i, scratch, reduce);
      continue;
    }
    for (let r = 0; r < t.rows; r++) {
      const who = all.filter((k) => {
        const w = updates[k]!.rowWeights;
        return w ? (w[t.rowWeightOffset + r] ?? 0) > 0 : updates[k]!.numExamples > 0;
      });
      if (who.length === 0) continue;
      const start = t.offset + r * t.cols;
      for (let i = start, end = start + t.cols; i < end; i++) out[i] = reduceAt(updates, who, i, scratch, reduce);
    }
  }
  return out;
}

function reduceAt(updates: readonly ClientUpdate[], who: readonly number[], i: number, scratch: Float64Array, reduce: (v: Float64Array) => number): number {
  const v = scratch.subarray(0, who.length);
  for (let k = 0; k < who.length; k++) v[k] = updates[who[k]!]!.delta[i]!;
  return reduce(v);
}

export function median(v: Float64Array): number {
  v.sort();
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Mean after dropping floor(trim · n) of the smallest and of the largest values. */
export function trimmedMean(trim: number): (v: Float64Array) => number {
  return (v) => {
    v.sort();
    const cut = Math.floor(trim * v.length);
    let s = 0;
    for (let k = cut; k < v.length - cut; k++) s += v[k]!;
    return s / (v.length - 2 * cut);
  };
}

/** Squared L2 distance between two deltas. */
function distance2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

/**
 * Multi-Krum (Blanchard et al. 2017): each update's score is the sum of squared distances to its
 * n − f − 2 nearest others; the `select` lowest-scoring updates are returned (indices, best first).
 * With f attackers among n > 2f + 2 updates, a selected update is close to a majority of honest ones.
 */
export function krumSelect(updates: readonly ClientUpdate[], f: number, select: number): number[] {
  const n = updates.length;
  if (n === 0) return [];
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = distance2(updates[i]!.delta, updates[j]!.delta);
      d[i * n + j] = x;
      d[j * n + i] = x;
    }
  }
  const neighbours = Math.max(1, n - f - 2);
  const scores = Array.from({ length: n }, (_, i) => {
    const row = Array.from(d.subarray(i * n, i * n + n)).filter((_, j) => j !== i);
    row.sort((a, b) => a - b);
    return row.slice(0, neighbours).reduce((s, x) => s + x, 0);
  });
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, Math.max(1, Math.min(n, select)))
    .map(([, i]) => i);
}
