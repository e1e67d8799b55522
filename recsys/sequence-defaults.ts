import type { ModelSpec } from '@fedrec/protocol';

/**
 * Defaults of the sequence model (models/seq): embedding width and how many recent items form the
 * device's state. Chosen on ML-100K with `npm run simulate -- --model seq` (README "The sequence model"):
 * the last 20 items at width 32 against 5 at width 16 reached validation HR@10 0.600 against 0.537 on 300
 * users, and test HR@10 0.5737 against 0.4995 at round 19 on all 943 (README "The table", 1 December 2026).
 */
export const SEQ_DEFAULTS = {
  factors: 32,
  seqLen: 20,
  initStd: 0.1,
  /** One item table for context and candidates: with 1 negative and a constant lr 0.5, seq's best (README "The table"). */
  tied: true,
  /** Fossil's long-term term (models/seq/arch.ts): off until a run shows it helps. */
  longTerm: false,
  /** Past items the long-term term reads, when on. */
  historyLen: 300,
  /**
   * Self-attention pooling over the context (models/seq/engine/attention.ts): on all 943 ML-100K devices it
   * lifted test HR@10 by 0.020, 0.019 and 0.008 (validation by 0.021, 0.020 and 0.006) in three runs, for
   * 2.4x the CPU of a local fit (README "The table").
   */
  attention: true,
};

/** Options of the `seq` model for a catalogue of `numItems` items. */
export function seqModelOptions(
  numItems: number,
  override: Partial<{ factors: number; seqLen: number; initStd: number; tied: boolean; longTerm: boolean; historyLen: number; attention: boolean }> = {},
): ModelSpec['options'] {
  const longTerm = override.longTerm ?? SEQ_DEFAULTS.longTerm;
  const attention = override.attention ?? SEQ_DEFAULTS.attention;
  return {
    numItems,
    factors: override.factors ?? SEQ_DEFAULTS.factors,
    seqLen: override.seqLen ?? SEQ_DEFAULTS.seqLen,
    initStd: override.initStd ?? SEQ_DEFAULTS.initStd,
    tied: override.tied ?? SEQ_DEFAULTS.tied,
    // Only a long-term (attention) model carries these options, so the specs of models without it stay as they were.
    ...(longTerm ? { longTerm, historyLen: override.historyLen ?? SEQ_DEFAULTS.historyLen } : {}),
    ...(attention ? { attention } : {}),
  };
}
