import type { ModelSpec } from '@fedrec/protocol';

/**
 * Defaults of the sequence model (models/seq): embedding width and how many recent items form the
 * device's state. Chosen on ML-100K with `npm run simulate -- --model seq` (README "Recommendation quality").
 */
export const SEQ_DEFAULTS = {
  factors: 16,
  seqLen: 5,
  initStd: 0.1,
};

/** Options of the `seq` model for a catalogue of `numItems` items. */
export function seqModelOptions(numItems: number, override: Partial<{ factors: number; seqLen: number; initStd: number }> = {}): ModelSpec['options'] {
  return {
    numItems,
    factors: override.factors ?? SEQ_DEFAULTS.factors,
    seqLen: override.seqLen ?? SEQ_DEFAULTS.seqLen,
    initStd: override.initStd ?? SEQ_DEFAULTS.initStd,
  };
}
