import { rowWeightsSize, sharedSize, type WeightManifest } from './weights.js';

/**
 * Everything FedAvg-family strategies need from a round, and exactly what secure aggregation can
 * deliver: sums over accepted clients, never one client's delta. The plain collector, secagg's
 * decodeAggregate and the simulations all produce this one shape.
 */
export interface AggregateSums {
  /** Σ weight·Δ in manifest order: weight n_i for plain elements, w_ir for rows of rowwise tensors. */
  weightedDeltaSum: Float64Array;
  /** Σ n_i over accepted clients. */
  weightSum: number;
  /** Σ w_ir: one total per row of each rowwise tensor, in manifest order. */
  rowWeightSums: Float64Array;
  /** How many client results went into the sums. */
  contributors: number;
}

export function emptySums(manifest: WeightManifest): AggregateSums {
  return {
    weightedDeltaSum: new Float64Array(sharedSize(manifest)),
    weightSum: 0,
    rowWeightSums: new Float64Array(rowWeightsSize(manifest)),
    contributors: 0,
  };
}

/**
 * Adds `from` into `into`: sums are additive, so the update pool's per-worker partial sums, and partial
 * sums from other coordinator nodes, merge into the round's sums (exactly, up to float64 rounding).
 */
export function mergeAggregateSums(into: AggregateSums, from: AggregateSums): void {
  if (into.weightedDeltaSum.length !== from.weightedDeltaSum.length || into.rowWeightSums.length !== from.rowWeightSums.length) {
    throw new RangeError('cannot merge sums of different layouts');
  }
  for (let i = 0; i < into.weightedDeltaSum.length; i++) into.weightedDeltaSum[i]! += from.weightedDeltaSum[i]!;
  for (let i = 0; i < into.rowWeightSums.length; i++) into.rowWeightSums[i]! += from.rowWeightSums[i]!;
  into.weightSum += from.weightSum;
  into.contributors += from.contributors;
}

/** The former name of mergeAggregateSums. */
export const mergeSums = mergeAggregateSums;
