import type { SeededRandom } from './random.js';

/**
 * A device's local item table: global item ids interned to rows 0..n-1 in first-use order, with how
 * many examples touched each row (the row's FedAvg weight). Every local plan (NCF, seq) builds one, so
 * the interning and the counting live here once.
 */
export class LocalRows {
  private readonly rowOf = new Map<number, number>();
  private readonly items: number[] = [];
  private readonly counts: number[] = [];

  /** The local row of a global item (a new row the first time), counting one more example that touches it. */
  row(item: number): number {
    let r = this.rowOf.get(item);
    if (r === undefined) {
      r = this.items.length;
      this.rowOf.set(item, r);
      this.items.push(item);
      this.counts.push(0);
    }
    this.counts[r]!++;
    return r;
  }

  /** The local row of an item already interned by row(), counting nothing (a RangeError for an unknown item). */
  existingRow(item: number): number {
    const r = this.rowOf.get(item);
    if (r === undefined) throw new RangeError(`item ${item} has no local row`);
    return r;
  }

  /** The table a LocalPlan carries: the global id of each row and the examples per row. */
  table(): { localItems: Int32Array; rowCounts: Float32Array } {
    return { localItems: Int32Array.from(this.items), rowCounts: Float32Array.from(this.counts) };
  }
}

/**
 * One epoch of training examples: each target (label 1) followed by `negatives` items drawn uniformly
 * from those not in `exclude` (label 0), then shuffled, as the NCF reference code resamples every
 * epoch. Each example keeps the index of the target it was drawn for (a sequence plan's position). No
 * negatives when `exclude` covers the catalogue (nothing left to draw).
 */
export function sampleEpoch(
  rng: SeededRandom,
  targets: readonly number[],
  numItems: number,
  negatives: number,
  exclude: ReadonlySet<number>,
): Array<[item: number, label: number, target: number]> {
  const canSample = exclude.size < numItems;
  const examples: Array<[number, number, number]> = [];
  targets.forEach((item, t) => {
    examples.push([item, 1, t]);
    for (let n = 0; n < negatives && canSample; n++) {
      let j = rng.int(numItems);
      while (exclude.has(j)) j = rng.int(numItems);
      examples.push([j, 0, t]);
    }
  });
  return rng.shuffle(examples);
}
