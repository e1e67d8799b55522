import { LocalRows, sampleEpoch } from '../../local-rows.js';
import { SeededRandom } from '../../random.js';

/** One device's training examples, over a small local table of the items it touches. */
export interface LocalPlan {
  /** Global item id of each local row. */
  localItems: Int32Array;
  /** Per epoch, in training order: local item row and label (1 positive, 0 sampled negative). */
  epochs: Array<{ rows: Int32Array; labels: Float32Array }>;
  /** Examples that touched each local row, over all epochs: the row's FedAvg weight. */
  rowCounts: Float32Array;
  examplesPerEpoch: number;
}

export interface PlanOptions {
  epochs: number;
  /** Sampled negatives per positive (4 in He et al. 2017). */
  negatives: number;
  seed: number;
  /**
   * The user's interactions held out of training to evaluate it (validation and test items): never
   * drawn as negatives either, since the user did interact with them (PFedRec's and the NCF PyTorch
   * code's protocol: negatives come from items the user never touched). Default none. The caller
   * chooses which held-out items (recsys/split.ts negativeExclusions): the strict protocol passes the
   * validation item only, so training never receives the test item.
   */
  heldOut?: ArrayLike<number>;
}

/**
 * Positives plus `negatives` uniformly sampled non-interacted items per positive, resampled
 * and shuffled every epoch (as the NCF reference code does), indexed into a local item table.
 */
export function planLocalTraining(trainItems: ArrayLike<number>, numItems: number, o: PlanOptions): LocalPlan {
  const rng = new SeededRandom(o.seed);
  const positives = new Set<number>(Array.from(trainItems));
  const exclude = o.heldOut ? new Set<number>([...positives, ...Array.from(o.heldOut)]) : positives;
  const rows = new LocalRows();
  const epochs: LocalPlan['epochs'] = [];
  for (let e = 0; e < o.epochs; e++) {
    const examples = sampleEpoch(rng, [...positives], numItems, o.negatives, exclude);
    epochs.push({
      rows: Int32Array.from(examples, ([item]) => rows.row(item)),
      labels: Float32Array.from(examples, ([, y]) => y),
    });
  }
  return { ...rows.table(), epochs, examplesPerEpoch: epochs[0]?.rows.length ?? 0 };
}
