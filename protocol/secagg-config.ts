import { z } from 'zod';

export const SECAGG_MODES = ['off', 'secagg', 'secagg+'] as const;
export type SecAggMode = (typeof SECAGG_MODES)[number];

/**
 * Secure aggregation settings, parsed once at the edge.
 * - threshold: a count of shares (integer ≥ 2), or a fraction f in [0.5, 1] of the sharing group
 *   (the client plus its neighbours), resolved to t = min(m, floor(f·m) + 1): a strict majority at least,
 *   so a server lying about who dropped cannot collect both shares of one client from two disjoint groups.
 *   'auto' (default): Bell et al.'s choice from dropoutRate and corruptionRate (secagg/parameters.ts), at most a strict majority.
 * - neighbours: SecAgg+ graph degree k (even; a Harary circulant on a seeded permutation) or 'auto' (Bell et al.:
 *   the smallest k that survives dropoutRate with failure ≤ 2^-20 and keeps corrupt neighbours below t, 2^-40).
 * - clipRange: every delta element is clipped to [-clipRange, clipRange] before weighting.
 * - maxWeight: weights (numExamples, row weights) are clipped to [0, maxWeight]; so w·Δ lies in ±clipRange·maxWeight.
 * - quantizationBits: bits per client value; a sum of n clients needs n ≤ maxSummands(bits) (bits + log2 n ≲ 32).
 *   Steps are clipRange·maxWeight/(2^(bits-1)-1) for w·Δ and maxWeight/(2^(bits-1)-1) for weights: keep maxWeight
 *   near the largest real weight, and spend the bits n leaves free (22 bits: up to 1024 clients).
 * - normBound: when set, an honest client scales its whole delta to L2 norm ≤ normBound before the
 *   element clip and masking (the plain mode's norm bound, fixed: the coordinator sees no norms here).
 * - rounding: 'stochastic' (unbiased; small rare-row updates survive on average) or 'nearest' (half the bound, biased).
 */
export const secAggConfigSchema = z
  .object({
    mode: z.enum(SECAGG_MODES).default('secagg+'),
    threshold: z.union([z.literal('auto'), z.number().int().min(2).max(255), z.number().min(0.5).max(1)]).default('auto'),
    neighbours: z
      .union([
        z.literal('auto'),
        z
          .number()
          .int()
          .min(2)
          .max(254)
          .refine((k) => k % 2 === 0, 'neighbours must be even (circulant Harary graph)'),
      ])
      .default('auto'),
    clipRange: z.number().positive().finite().default(1),
    maxWeight: z.number().positive().finite().default(1000),
    quantizationBits: z.number().int().min(8).max(30).default(22),
    rounding: z.enum(['stochastic', 'nearest']).default('stochastic'),
    normBound: z.number().positive().finite().optional(),
    /** Expected fraction of clients dropping after share keys: 'auto' neighbours and threshold are sized for it. */
    dropoutRate: z.number().min(0).max(0.45).default(0.3),
    /** Fraction of clients that may collude with the server: 'auto' thresholds exceed their share count. */
    corruptionRate: z.number().min(0).max(0.3).default(0.05),
  })
  .strict();

export type SecAggConfig = z.output<typeof secAggConfigSchema>;
export type SecAggConfigInput = z.input<typeof secAggConfigSchema>;

export const DEFAULT_SECAGG_CONFIG: SecAggConfig = secAggConfigSchema.parse({});

export function parseSecAggConfig(input: unknown): SecAggConfig {
  return secAggConfigSchema.parse(input ?? {});
}
