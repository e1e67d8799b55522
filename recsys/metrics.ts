import { bceWithLogit } from '@fedrec/models/ncf/engine/net.js';
/** Position (0-based) of `target` in a ranked list, or -1. */
export function positionOf(ranked: ArrayLike<number>, target: number): number {
  for (let i = 0; i < ranked.length; i++) if (ranked[i] === target) return i;
  return -1;
}

/** 1 when the target is among the first k ranked items. */
export function hitRatioAt(ranked: ArrayLike<number>, target: number, k: number): number {
  const p = positionOf(ranked, target);
  return p >= 0 && p < k ? 1 : 0;
}

/** 1/log2(position + 2) when the target is in the top k, else 0 (one relevant item). */
export function ndcgAt(ranked: ArrayLike<number>, target: number, k: number): number {
  const p = positionOf(ranked, target);
  return p >= 0 && p < k ? 1 / Math.log2(p + 2) : 0;
}

/**
 * Rank of the held-out item among candidates from their scores: how many negatives score at
 * least as high (ties count against the target, so a constant model earns nothing).
 */
export function rankAmongNegatives(targetScore: number, negativeScores: ArrayLike<number>): number {
  let rank = 0;
  for (let i = 0; i < negativeScores.length; i++) if (!(negativeScores[i]! < targetScore)) rank++;
  return rank;
}

export interface RankMetrics {
  hr: number;
  ndcg: number;
}

/** HR@k and NDCG@k from a 0-based rank. */
export function metricsFromRank(rank: number, k: number): RankMetrics {
  return rank < k ? { hr: 1, ndcg: 1 / Math.log2(rank + 2) } : { hr: 0, ndcg: 0 };
}

/** Means over users. */
export function averageMetrics(perUser: RankMetrics[]): RankMetrics {
  const n = perUser.length || 1;
  return {
    hr: perUser.reduce((s, m) => s + m.hr, 0) / n,
    ndcg: perUser.reduce((s, m) => s + m.ndcg, 0) / n,
  };
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
