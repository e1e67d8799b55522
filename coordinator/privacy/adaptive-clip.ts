import { addGaussianNoise } from '@fedrec/protocol';
import type { ByteSource } from '@fedrec/protocol';

/** How the clip norm follows the updates (Andrew et al. 2021, "Differentially Private Learning with Adaptive Clipping"). */
export interface AdaptiveClipSettings {
  /** The quantile γ of update norms the clip norm tracks (0.5: half the updates are clipped). */
  targetQuantile: number;
  /** η of the geometric step C ← C·exp(−η(b̄ − γ)); the paper's default is 0.2. */
  learningRate: number;
  /**
   * σ_b, the std of the noise on the count of unclipped updates. Unset: max(selected / 20, z), the paper's
   * expected-clients / 20 but never below the noise multiplier z, so that the value query keeps a finite
   * noise multiplier even for the 3-client rounds of a small deployment (see valueNoiseMultiplier).
   */
  countStddev?: number | undefined;
}

/**
 * The noise multiplier left for the value sum when the combined release (value sum + count of unclipped
 * updates) must be a Gaussian mechanism of noise multiplier z: z_v = (z^-2 − (2σ_b)^-2)^-1/2.
 * Why: the count's sensitivity is 1/2 (each bit is shifted to b − 1/2), so it is a Gaussian mechanism of
 * noise multiplier 2σ_b; two Gaussian mechanisms compose like one whose z^-2 is the sum of theirs
 * (Andrew et al. 2021, Thm 1; TF Privacy's QuantileAdaptiveClipSumQuery, TFF's DifferentiallyPrivateFactory).
 * The accountant therefore spends z per round, and the value sum gets the (larger) z_v.
 */
export function valueNoiseMultiplier(z: number, countStddev: number): number {
  if (!(2 * countStddev > z)) {
    throw new RangeError(`adaptive clipping: the count noise std ${countStddev} must exceed half the noise multiplier ${z} (2σ_b > z)`);
  }
  return 1 / Math.sqrt(z ** -2 - (2 * countStddev) ** -2);
}

/** σ_b for a round of `selected` clients (AdaptiveClipSettings.countStddev). */
export function countStddevFor(settings: AdaptiveClipSettings, selected: number, z: number): number {
  return settings.countStddev ?? Math.max(selected / 20, z);
}

/**
 * The clip norm's state over rounds. Each round, the coordinator learns how many updates had a norm ≤ C
 * (the bits), privatizes the count with N(0, σ_b²) around the shifted sum Σ(b − 1/2), divides by the
 * selected count (the fixed denominator of the sum's release too) and steps C geometrically towards the
 * target quantile. The noised fraction is clamped to [0, 1], as TF Privacy does.
 */
export class AdaptiveClip {
  constructor(
    private readonly settings: AdaptiveClipSettings,
    private clip: number,
  ) {}

  /** The clip norm of the next round. */
  get clipNorm(): number {
    return this.clip;
  }

  /** Resumes from a saved clip norm (the privacy ledger). */
  restore(clipNorm: number): void {
    if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new RangeError(`adaptive clipping: saved clip norm ${clipNorm} is not a positive number`);
    this.clip = clipNorm;
  }

  /**
   * Steps the clip norm from a released round: `unclipped` of `selected` updates had a norm ≤ the round's
   * clip norm. Returns the noised fraction it stepped with.
   */
  step(unclipped: number, selected: number, countStddev: number, bytes?: ByteSource): number {
    return this.stepShifted(unclipped - selected / 2, selected, countStddev, bytes);
  }

  /**
   * The same step from the shifted count Σ(b − 1/2) over the selected clients, as secure aggregation delivers it
   * (already noised by the devices when the noise is distributed: countStddev 0 then).
   */
  stepShifted(shiftedCount: number, selected: number, countStddev: number, bytes?: ByteSource): number {
    if (!Number.isFinite(shiftedCount)) throw new RangeError(`adaptive clipping: the shifted count ${shiftedCount} is not finite`);
    const shifted = new Float64Array([shiftedCount]);
    addGaussianNoise(shifted, countStddev, bytes);
    const fraction = Math.min(1, Math.max(0, shifted[0]! / selected + 0.5));
    this.clip *= Math.exp(-this.settings.learningRate * (fraction - this.settings.targetQuantile));
    return fraction;
  }
}
