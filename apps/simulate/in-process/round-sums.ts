import type { SparseUpdate } from '@fedrec/coordinator/strategy/update-accumulator.js';
import type { LocalFitResult } from '@fedrec/models/ncf/engine/local-fit.js';
import { emptySums, mergeSums, type AggregateSums, type WeightManifest } from '@fedrec/protocol';

/**
 * What one round's clients hand back: the contract's sums (made by the coordinator's
 * UpdateAccumulator) and the summed training loss the round report shows. Both add, so worker
 * threads each return a partial one.
 */
export interface RoundSums {
  sums: AggregateSums;
  lossSum: number;
}

export function emptyRoundSums(manifest: WeightManifest): RoundSums {
  return { sums: emptySums(manifest), lossSum: 0 };
}

export function mergeRoundSums(into: RoundSums, from: RoundSums): void {
  mergeSums(into.sums, from.sums);
  into.lossSum += from.lossSum;
}

/** A local result as the accumulator's sparse input: the item tables share the touched item rows. */
export function toSparseUpdate(r: LocalFitResult): SparseUpdate {
  return { numExamples: r.numExamples, dense: r.denseDeltas, rows: r.localItems, rowWeights: r.rowCounts, rowDeltas: r.itemDeltas };
}
