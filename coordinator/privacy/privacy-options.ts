import { z } from 'zod';

/**
 * Client-level DP settings of a coordinator (`options.privacy`). See privacy-guard.ts for what happens
 * with them, and presets.ts for the `--privacy off|standard|strict` table.
 */
export const privacyOptionsSchema = z
  .union([
    z.literal('off'),
    z.strictObject({
      /** L2 bound on each client's whole update (weights made 1 first). */
      clipNorm: z.number().positive().finite(),
      /** Noise std in the sum = noiseMultiplier × clipNorm. */
      noiseMultiplier: z.number().positive().finite(),
      /** The δ epsilon is reported at. */
      delta: z.number().gt(0).lt(1).default(1e-5),
      /** Training stops before a round that would take epsilon above this; none = account and report only. */
      epsilonBudget: z.number().positive().finite().optional(),
      /**
       * Where the noise is added. central: by the coordinator on the sum of clipped updates (it sees single
       * updates in plain mode: the trusted-aggregator model). distributed: each device adds its share, so
       * the sum carries the full noise while no one sees a single update (secure aggregation). auto:
       * distributed under secure aggregation, central otherwise.
       */
      placement: z.enum(['auto', 'central', 'distributed']).default('auto'),
      /**
       * Distributed noise is calibrated so that this fraction of the selected clients (at least minResults)
       * already carry the full noise: each adds N(0, σ²C²/m) with m = ceil(fraction × selected). More
       * dropouts than that leave less noise; such a round is accounted at the noise it really had.
       */
      minSurvivorFraction: z.number().gt(0).max(1).default(0.8),
      /**
       * Adaptive clipping (Andrew et al. 2021; adaptive-clip.ts): clipNorm is then the initial clip norm, and
       * each round steps it towards the targetQuantile of the update norms from the privatized count of
       * unclipped updates. noiseMultiplier stays the one the accountant spends: the value sum gets the larger
       * z_v = (z^-2 − (2σ_b)^-2)^-1/2. Central noise only (plain mode): under secure aggregation the count
       * would have to travel in the masked vector, which it does not (yet).
       */
      adaptiveClip: z
        .strictObject({
          targetQuantile: z.number().gt(0).lt(1).default(0.5),
          learningRate: z.number().positive().finite().default(0.2),
          countStddev: z.number().positive().finite().optional(),
        })
        .optional(),
    }),
  ])
  .default('off');

export type PrivacyOptions = z.output<typeof privacyOptionsSchema>;
export type PrivacyInput = z.input<typeof privacyOptionsSchema>;
export type DpSettings = Exclude<PrivacyOptions, 'off'>;
