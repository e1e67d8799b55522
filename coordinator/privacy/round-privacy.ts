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
  clipNorm: number;
  placement: 'central' | 'distributed';
  /** Updates in the sum. */
  contributors: number;
}

/** What /api/status and the dashboard say about privacy. */
export interface PrivacyStatus {
  placement: 'central' | 'distributed';
  clipNorm: number;
  noiseMultiplier: number;
  delta: number;
  epsilon: number;
  epsilonBudget: number | null;
  roundsReleased: number;
  /** Why training stopped for privacy (the budget), or null. */
  halted: string | null;
}
