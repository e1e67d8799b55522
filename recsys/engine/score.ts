import type { NcfArch } from '../../models/ncf/arch.js';
import { rankAmongNegatives, metricsFromRank, type RankMetrics } from '../metrics.js';
import { gatherLocalParams } from './local-fit.js';
import { NcfNet, bceWithLogit } from './net.js';

/** Logits of one user (its private rows) against the given items under the shared weights. */
export function scoreItemsJs(a: NcfArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: ArrayLike<number>): Float32Array {
  const local = Int32Array.from(items as ArrayLike<number>);
  const net = new NcfNet(a, gatherLocalParams(a, shared, priv, local), 1, local.length);
  const out = new Float32Array(local.length);
  for (let k = 0; k < local.length; k++) out[k] = net.forward(0, k);
  return out;
}

export interface HeldOutScore extends RankMetrics {
  /** Mean BCE over the held-out positive and its negatives. */
  loss: number;
  rank: number;
}

/** HR@k / NDCG@k of the held-out item among its negatives, from logits [test, ...negatives]. */
export function heldOutMetrics(logits: Float32Array, k = 10): HeldOutScore {
  const negatives = logits.subarray(1);
  const rank = rankAmongNegatives(logits[0]!, negatives);
  let loss = bceWithLogit(logits[0]!, 1);
  for (const z of negatives) loss += bceWithLogit(z, 0);
  return { ...metricsFromRank(rank, k), loss: loss / logits.length, rank };
}
