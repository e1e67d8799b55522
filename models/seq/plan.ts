import { LocalRows, sampleEpoch } from '../local-rows.js';
import { SeededRandom } from '../random.js';
import type { LocalPlan } from '../ncf/engine/plan.js';

/**
 * A LocalPlan whose examples also carry their context: the L previous items (local rows, -1 empty),
 * and their position in the sequence (the long-term term reads the items before it).
 */
export interface SeqPlan extends LocalPlan {
  seqLen: number;
  /** The time-ordered sequence as local rows. */
  sequence: Int32Array;
  epochs: Array<{ rows: Int32Array; labels: Float32Array; contexts: Int32Array; positions: Int32Array }>;
}

export interface SeqPlanOptions {
  epochs: number;
  negatives: number;
  seed: number;
  seqLen: number;
  /** Held-out items never drawn as negatives, as in the NCF plan (PlanOptions.heldOut). Default none. */
  heldOut?: ArrayLike<number>;
}

export function isSeqPlan(plan: LocalPlan): plan is SeqPlan {
  return 'seqLen' in plan && 'sequence' in plan && plan.epochs.every((e) => 'contexts' in e && 'positions' in e);
}

/**
 * Next-item prediction over sliding windows of one user's time-ordered history: at each position t
 * the target s_t (label 1) and `negatives` sampled items the user never touched (label 0; nor the
 * held-out items in `heldOut`) share the
 * context s_{t-1}, ..., s_{t-L} (most recent first). Position 0 has an empty context (bias only), so
 * every event teaches something. Examples are shuffled every epoch, negatives resampled, as NCF does.
 */
export function planSequenceTraining(sequence: ArrayLike<number>, numItems: number, o: SeqPlanOptions): SeqPlan {
  const rng = new SeededRandom(o.seed);
  const seq = Array.from(sequence);
  const exclude = new Set<number>([...seq, ...Array.from(o.heldOut ?? [])]);
  const rows = new LocalRows();
  const epochs: SeqPlan['epochs'] = [];
  for (let e = 0; e < o.epochs; e++) {
    const examples = sampleEpoch(rng, seq, numItems, o.negatives, exclude);
    const contexts = new Int32Array(examples.length * o.seqLen).fill(-1);
    const targets = new Int32Array(examples.length);
    examples.forEach(([item, , t], k) => {
      targets[k] = rows.row(item);
      for (let l = 0; l < o.seqLen && t - 1 - l >= 0; l++) contexts[k * o.seqLen + l] = rows.row(seq[t - 1 - l]!);
    });
    epochs.push({ rows: targets, labels: Float32Array.from(examples, ([, y]) => y), contexts, positions: Int32Array.from(examples, ([, , t]) => t) });
  }
  // Every item of the sequence is a positive example of each epoch, so it has its row: looked up, not counted again.
  const sequenceRows = o.epochs > 0 ? Int32Array.from(seq, (item) => rows.existingRow(item)) : new Int32Array(0);
  return { seqLen: o.seqLen, sequence: sequenceRows, ...rows.table(), epochs, examplesPerEpoch: epochs[0]?.rows.length ?? 0 };
}
