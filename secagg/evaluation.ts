import type { SecAggConfig } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import { contributionLayout, decodeAggregate, encodeContribution, type ContributionLayout } from './contribution.js';

/**
 * Secure evaluation: a device's evaluation result as a secure-aggregation contribution, so the coordinator sums
 * results without seeing one. The vector is a one-tensor contribution [n·m_1 … n·m_K | n] (n = evaluation examples),
 * the same encoding as a fit delta; the sum decodes to Σ n·m_k and Σ n, i.e. the example-weighted mean of each metric.
 */

/** Metric values are clipped to ±EVALUATION_CLIP (losses, hit rates and NDCG all sit well inside it). */
export const EVALUATION_CLIP = 16;

export function evaluationManifest(metrics: readonly string[]): WeightManifest {
  return { tensors: [{ name: 'evaluation', shape: [metrics.length], dtype: 'float32', shared: true }] };
}

export function evaluationLayout(metrics: readonly string[]): ContributionLayout {
  return contributionLayout(evaluationManifest(metrics));
}

/** The round's config with the clip range evaluation values need (both sides derive it the same way). */
export function evaluationConfig(config: SecAggConfig): SecAggConfig {
  const { normBound: _unused, ...rest } = config; // a norm bound is for deltas: metrics are only clipped
  return { ...rest, clipRange: EVALUATION_CLIP };
}

/** One device's result as its quantized vector (a metric it did not report counts as 0). */
export function encodeEvaluation(
  result: { numExamples: number; metrics: Record<string, number> },
  metrics: readonly string[],
  config: SecAggConfig,
): Uint32Array {
  const delta = Float32Array.from(metrics, (name) => result.metrics[name] ?? 0);
  return encodeContribution({ numExamples: result.numExamples, delta }, evaluationLayout(metrics), evaluationConfig(config));
}

/** The unmasked sum of `contributors` vectors as example-weighted means and the total example count. */
export function decodeEvaluation(
  sum: Uint32Array,
  contributors: number,
  metrics: readonly string[],
  config: SecAggConfig,
): { numExamples: number; metrics: Record<string, number> } {
  const sums = decodeAggregate(sum, contributors, evaluationLayout(metrics), evaluationConfig(config));
  const n = sums.weightSum;
  // No examples: no metrics at all (a NaN loss would read as a collapsed model and trigger a rollback).
  if (!(n > 0)) return { numExamples: 0, metrics: {} };
  return { numExamples: n, metrics: Object.fromEntries(metrics.map((name, i) => [name, sums.weightedDeltaSum[i]! / n])) };
}
