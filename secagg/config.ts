import type { SecAggConfig } from '@fedrec/protocol';
import { parametersForDegree, secAggPlusParameters, type SecAggPlusTargets } from './parameters.js';
import { maxSummands } from './quantize.js';

/** The old rule of thumb (even ≥ log2 n, ≥ 4): kept for callers that want a cheap, dropout-fragile graph. */
export function autoNeighbours(n: number): number {
  return Math.max(4, 2 * Math.ceil(Math.log2(Math.max(2, n)) / 2));
}

/** The dropout and corruption rates the 'auto' parameters are sized for. */
export function targetsOf(config: SecAggConfig): SecAggPlusTargets {
  return { dropoutRate: config.dropoutRate, corruptionRate: config.corruptionRate };
}

/** Neighbours of each client among n: everyone else in SecAgg, k (capped at n-1) in SecAgg+ (auto: Bell et al.). */
export function neighbourCount(config: SecAggConfig, n: number): number {
  if (config.mode === 'off') throw new RangeError('secure aggregation is off');
  if (config.mode === 'secagg') return n - 1;
  const k = config.neighbours === 'auto' ? secAggPlusParameters(n, targetsOf(config)).neighbours : config.neighbours;
  return Math.min(k, n - 1);
}

/**
 * Shares needed to reconstruct a secret split among a group of m (the client and its neighbours) in a round of
 * n clients. 'auto' (needs n): more than the corrupt neighbours expected at corruptionRate, at most a strict majority.
 */
export function thresholdFor(config: SecAggConfig, groupSize: number, n = groupSize): number {
  const f = config.threshold;
  if (f === 'auto') return parametersForDegree(n, groupSize - 1, targetsOf(config)).threshold;
  if (Number.isInteger(f) && f >= 2) return f;
  return Math.max(2, Math.min(groupSize, Math.floor(f * groupSize) + 1));
}

/** Why a round of n clients cannot run under this config, or null when it can. */
export function roundInfeasibility(config: SecAggConfig, n: number): string | null {
  if (config.mode === 'off') return 'secure aggregation is off';
  if (n < 3) return `${n} clients: secure aggregation needs at least 3 (a sum of 2 reveals each to the other)`;
  if (n > maxSummands(config.quantizationBits))
    return `${n} clients exceed ${maxSummands(config.quantizationBits)}, the most a ${config.quantizationBits}-bit sum can hold`;
  const m = neighbourCount(config, n) + 1;
  if (m > 255) return `a sharing group of ${m} exceeds the 255 shares of GF(2^8) Shamir: use mode 'secagg+'`;
  const t = thresholdFor(config, m, n);
  if (t > m) return `threshold ${t} exceeds the sharing group of ${m}`;
  // 'auto' may sit below a majority (Bell et al.'s semi-honest bound); an explicit threshold must be a majority.
  if (config.threshold !== 'auto' && 2 * t <= m) return `threshold ${t} is not a strict majority of the sharing group of ${m}`;
  return null;
}
