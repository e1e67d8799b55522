import { addGaussianNoise } from '@fedrec/protocol';
import type { AggregateSums, ByteSource } from '@fedrec/protocol';
import type { SparseUpdate } from '../strategy/update-accumulator.js';

/**
 * The release of a DP round's sums: N(0, std²) on EVERY element of Σ Δ (rows nobody touched included),
 * then the fixed denominator (McMahan et al.'s fixed-denominator estimator) for every element, so the
 * average says neither how many examples anyone had nor which rows anyone touched. std = 0 when the
 * devices added the noise (distributed placement).
 */
export function releaseDpSums(sums: AggregateSums, noiseStd: number, denominator: number, bytes?: ByteSource): void {
  addGaussianNoise(sums.weightedDeltaSum, noiseStd, bytes);
  sums.weightSum = denominator;
  sums.rowWeightSums.fill(denominator);
}

/**
 * A sparse local result as DP-FedAvg sums it (the in-process simulation's form of client-sdk/privacy's
 * device step): weight 1 (numExamples 1, each touched row 1), the whole delta scaled to L2 norm ≤ clipNorm.
 * Returns the update and its norm before clipping.
 */
export function clipSparseUpdate(u: SparseUpdate, clipNorm: number): { update: SparseUpdate; norm: number } {
  let s = 0;
  const all = [...u.dense.values(), ...u.rowDeltas.values()];
  for (const d of all) for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  const norm = Math.sqrt(s);
  const scale = norm > clipNorm ? clipNorm / norm : 1;
  const scaled = (m: ReadonlyMap<string, ArrayLike<number>>) => new Map([...m].map(([k, d]) => [k, Float32Array.from(d, (x) => x * scale)]));
  return {
    update: {
      numExamples: 1,
      dense: scaled(u.dense),
      rows: u.rows,
      rowWeights: Float32Array.from(u.rowWeights, (w) => (w > 0 ? 1 : 0)),
      rowDeltas: scaled(u.rowDeltas),
    },
    norm,
  };
}
