import { contributionLayout, encodeContribution, type ClientContribution } from '../index.js';
import { parseSecAggConfig, type SecAggConfig, type SecAggConfigInput } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';

/** A seeded uniform source (mulberry32) so tests are reproducible. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small model: a dense layer and a rowwise item table (4 rows × 3). */
export const manifest: WeightManifest = {
  tensors: [
    { name: 'dense/kernel', shape: [2, 3], dtype: 'float32', shared: true },
    { name: 'user', shape: [5, 3], dtype: 'float32', shared: false },
    { name: 'item', shape: [4, 3], dtype: 'float32', shared: true, rowwise: true },
  ],
};
export const layout = contributionLayout(manifest);

export function config(overrides: SecAggConfigInput = {}): SecAggConfig {
  return parseSecAggConfig({ clipRange: 1, maxWeight: 100, quantizationBits: 20, ...overrides });
}

export function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `client-${String(i).padStart(3, '0')}`);
}

/** Random in-range contributions for each client; some item rows untouched (weight 0). */
export function contributions(clientIds: string[], seed: number): Map<string, ClientContribution> {
  const rand = seededUniform(seed);
  const out = new Map<string, ClientContribution>();
  for (const id of clientIds) {
    const delta = Float32Array.from({ length: layout.deltaLength }, () => (rand() * 2 - 1) * 0.9);
    const rowWeights = Float32Array.from({ length: layout.rowWeightsLength }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * 20) + 1));
    out.set(id, { numExamples: Math.floor(rand() * 90) + 1, delta, rowWeights });
  }
  return out;
}

export function encodeAll(cs: Map<string, ClientContribution>, cfg: SecAggConfig, seed = 7): Map<string, Uint32Array> {
  const rand = seededUniform(seed);
  return new Map([...cs].map(([id, c]) => [id, encodeContribution(c, layout, cfg, rand)]));
}

/** The plain (unquantized) sums the contract defines, over the given clients. */
export function plainSums(cs: Map<string, ClientContribution>, only: Iterable<string>) {
  const weightedDeltaSum = new Float64Array(layout.deltaLength);
  const rowWeightSums = new Float64Array(layout.rowWeightsLength);
  let weightSum = 0;
  for (const id of only) {
    const c = cs.get(id)!;
    weightSum += c.numExamples;
    for (let i = 0; i < weightedDeltaSum.length; i++) weightedDeltaSum[i]! += c.numExamples * c.delta[i]!;
    for (const t of layout.tables) {
      for (let r = 0; r < t.rows; r++) {
        const w = c.rowWeights![t.rowWeightOffset + r]!;
        rowWeightSums[t.rowWeightOffset + r]! += w;
        for (let j = t.offset + r * t.cols; j < t.offset + (r + 1) * t.cols; j++) {
          weightedDeltaSum[j]! += w * c.delta[j]! - c.numExamples * c.delta[j]!;
        }
      }
    }
  }
  return { weightedDeltaSum, weightSum, rowWeightSums };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
