import { emptySums, rowLayout } from '@fedrec/protocol';
import type { AggregateSums, RowLayout, WeightManifest } from '@fedrec/protocol';

/**
 * A client result in the sparse form local training produces: full deltas of the plain shared
 * tensors, and only the touched rows of the rowwise ones. Every rowwise tensor shares one row
 * index set (an item's rows in each item table), as in NCF's local results.
 */
export interface SparseUpdate {
  numExamples: number;
  /** Delta of each plain shared tensor, by manifest name, full length. */
  dense: ReadonlyMap<string, ArrayLike<number>>;
  /** Indices of the touched rows. */
  rows: ArrayLike<number>;
  /** One weight per touched row (examples that touched it). */
  rowWeights: ArrayLike<number>;
  /** Delta of each rowwise tensor's touched rows, by manifest name, in `rows` order (rows.length × cols). */
  rowDeltas: ReadonlyMap<string, ArrayLike<number>>;
}

/**
 * Streams client results into running sums, so memory stays O(model size) however many
 * clients report. Inputs must already be validated (lengths, finiteness).
 */
export class UpdateAccumulator {
  readonly sums: AggregateSums;
  private readonly layout: RowLayout;

  constructor(manifest: WeightManifest) {
    this.sums = emptySums(manifest);
    this.layout = rowLayout(manifest);
  }

  /**
   * One rule for absent rowWeights, shared with secagg's encodeContribution: every row of a rowwise tensor
   * then weighs numExamples (the tensor is averaged like any other). On the wire both paths require
   * rowWeights when the manifest has rowwise tensors (the SDK checks before sealing or masking; the
   * plain validator answers MANIFEST_MISMATCH), so the fallback only serves direct callers.
   */
  add(numExamples: number, delta: Float32Array, rowWeights: Float32Array | undefined): void {
    const acc = this.sums.weightedDeltaSum;
    for (const seg of this.layout.segments) {
      const t = seg.table;
      if (!t) {
        for (let i = seg.offset, end = seg.offset + seg.size; i < end; i++) acc[i]! += numExamples * delta[i]!;
        continue;
      }
      for (let r = 0; r < t.rows; r++) {
        const w = rowWeights ? (rowWeights[t.rowWeightOffset + r] ?? 0) : numExamples;
        if (w === 0) continue;
        this.sums.rowWeightSums[t.rowWeightOffset + r]! += w;
        const start = t.offset + r * t.cols;
        for (let i = start, end = start + t.cols; i < end; i++) acc[i]! += w * delta[i]!;
      }
    }
    this.sums.weightSum += numExamples;
    this.sums.contributors += 1;
  }

  /** The same sums as `add` of the dense equivalent (untouched rows: weight 0, delta 0), in O(touched rows). */
  addSparse(u: SparseUpdate): void {
    const acc = this.sums.weightedDeltaSum;
    const n = u.numExamples;
    for (const seg of this.layout.segments) {
      if (seg.table) continue;
      const d = need(u.dense, seg.name, seg.size);
      for (let k = 0; k < seg.size; k++) acc[seg.offset + k]! += n * d[k]!;
    }
    for (const t of this.layout.tables) {
      const d = need(u.rowDeltas, t.name, u.rows.length * t.cols);
      for (let local = 0; local < u.rows.length; local++) {
        const row = u.rows[local]!;
        const w = u.rowWeights[local]!;
        if (!(row >= 0 && row < t.rows)) throw new RangeError(`row ${row} is outside ${t.name} (${t.rows} rows)`);
        if (w === 0) continue;
        this.sums.rowWeightSums[t.rowWeightOffset + row]! += w;
        const start = t.offset + row * t.cols;
        for (let k = 0; k < t.cols; k++) acc[start + k]! += w * d[local * t.cols + k]!;
      }
    }
    this.sums.weightSum += n;
    this.sums.contributors += 1;
  }
}

function need(map: ReadonlyMap<string, ArrayLike<number>>, name: string, length: number): ArrayLike<number> {
  const d = map.get(name);
  if (!d || d.length !== length) throw new RangeError(`sparse update: tensor ${name} needs ${length} values, got ${d?.length ?? 'none'}`);
  return d;
}
