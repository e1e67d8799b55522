import type { SecAggConfig } from '@fedrec/protocol';
import { maxSummands } from './quantize.js';

/** SecAgg+ degree for n clients when neighbours is 'auto': the even number at or above log2 n, at least 4. */
export function autoNeighbours(n: number): number {
  return Math.max(4, 2 * Math.ceil(Math.log2(Math.max(2, n)) / 2));
}

/** Neighbours of each client among n: everyone else in SecAgg, k (capped at n-1) in SecAgg+. */
export function neighbourCount(config: SecAggConfig, n: number): number {
  if (config.mode === 'off') throw new RangeError('secure aggregation is off');
  if (config.mode === 'secagg') return n - 1;
  const k = config.neighbours === 'auto' ? autoNeighbours(n) : config.neighbours;
  return Math.min(k, n - 1);
}

/** Shares needed to reconstruct a secret split among a group of m (the client and its neighbours). */
export function thresholdFor(config: SecAggConfig, groupSize: number): number {
  const f = config.threshold;
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
  const t = thresholdFor(config, m);
  if (t > m) return `threshold ${t} exceeds the sharing group of ${m}`;
  if (2 * t <= m) return `threshold ${t} is not a strict majority of the sharing group of ${m}`;
  return null;
}
