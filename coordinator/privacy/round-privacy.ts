// What rounds, /api/status and the dashboard report about privacy (no imports: records and status use it).

/** What a round record says about privacy (in /api/rounds). */
export interface RoundPrivacy {
  /** True when a noisy sum of this round was released to the coordinator (and so counted). */
  released: boolean;
  /** Total epsilon at `delta` after this round. */
  epsilon: number;
  delta: number;
  /** The noise multiplier the released sum really had (distributed noise shrinks with dropouts). */
  noiseMultiplier: number;
  /** Selected / eligible (connected) clients. */
  sampleRate: number;
  /** The clip norm of this round (under adaptive clipping, the one the round started with). */
  clipNorm: number;
  placement: 'central' | 'distributed';
  /** Updates in the sum. */
  contributors: number;
  /**
   * Under adaptive clipping: the value sum's own noise multiplier (noiseMultiplier above is the combined one
   * the accountant spent), the count's noise std, the noised fraction of unclipped updates, the next clip norm.
   */
  adaptiveClip?: { valueNoiseMultiplier: number; countStddev: number; unclippedFraction: number; nextClipNorm: number };
}

/** What /api/status and the dashboard say about privacy. */
export interface PrivacyStatus {
  placement: 'central' | 'distributed';
  /** The clip norm of the next round. */
  clipNorm: number;
  /** Present under adaptive clipping. */
  adaptiveClip?: { targetQuantile: number; learningRate: number };
  noiseMultiplier: number;
  delta: number;
  epsilon: number;
  epsilonBudget: number | null;
  roundsReleased: number;
  /** Why training stopped for privacy (the budget), or null. */
  halted: string | null;
}
