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
}

/**
 * Positives plus `negatives` uniformly sampled non-interacted items per positive, resampled
 * and shuffled every epoch (as the NCF reference code does), indexed into a local item table.
 */
export function planLocalTraining(trainItems: ArrayLike<number>, numItems: number, o: PlanOptions): LocalPlan {
  const rng = new SeededRandom(o.seed);
  const positives = new Set<number>(Array.from(trainItems));
  const canSample = positives.size < numItems;
  const localOf = new Map<number, number>();
  const localItems: number[] = [];
  const counts: number[] = [];
  const local = (item: number) => {
    let r = localOf.get(item);
    if (r === undefined) {
      r = localItems.length;
      localOf.set(item, r);
      localItems.push(item);
      counts.push(0);
    }
    counts[r]!++;
    return r;
  };
  const epochs: LocalPlan['epochs'] = [];
  for (let e = 0; e < o.epochs; e++) {
    const examples: Array<[number, number]> = [];
    for (const item of positives) {
      examples.push([item, 1]);
      for (let n = 0; n < o.negatives && canSample; n++) {
        let j = rng.int(numItems);
        while (positives.has(j)) j = rng.int(numItems);
        examples.push([j, 0]);
      }
    }
    rng.shuffle(examples);
    epochs.push({
      rows: Int32Array.from(examples, ([item]) => local(item)),
      labels: Float32Array.from(examples, ([, y]) => y),
    });
  }
  return {
    localItems: Int32Array.from(localItems),
    epochs,
    rowCounts: Float32Array.from(counts),
    examplesPerEpoch: epochs[0]?.rows.length ?? 0,
  };
}
