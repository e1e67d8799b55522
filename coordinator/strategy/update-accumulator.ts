import { emptySums, rowLayout } from '@fedrec/protocol';
import type { AggregateSums, RowLayout, WeightManifest } from '@fedrec/protocol';
import { createAxpy32, MAX_FUSED, type Axpy32 } from './simd-axpy.js';

/**
 * Updates summed in float32 before their block is added to the float64 sums. Float32 halves the bytes
 * the accumulate step moves per element (read Δ, read and write 4-byte partial sums: 3 bytes per delta
 * byte, against memcpy's 2; float64 sums need 5, so they cannot reach half of memcpy's bandwidth). The
 * block bounds the error: each element's block sum is off by at most BLOCK·2⁻²⁴·Σ|n·Δ| over the block
 * (≈ 9.5e-7 of the absolute terms for 16), and the float64 sum of blocks adds nothing measurable.
 * test/coordinator/update-accumulator-error.test.ts holds it to that against a float64 reference.
 */
export const FLOAT32_BLOCK = 16;

/** One dense client result, as `add` takes it. */
export interface DenseAdd {
  numExamples: number;
  delta: Float32Array;
  rowWeights: Float32Array | undefined;
}

export interface AccumulatorOptions {
  /**
   * 'float32-blocks' (default): plain tensors summed by a wasm SIMD kernel into float32 blocks of
   * FLOAT32_BLOCK updates. 'float64': every product added straight to the float64 sums in a JavaScript
   * loop (the former path, kept as the benchmark's "before" and where wasm SIMD is missing).
   */
  kernel?: 'float32-blocks' | 'float64';
}

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
  private readonly float64Sums: AggregateSums;
  private readonly layout: RowLayout;
  /**
   * The plain segments' float32 partial sums and their float64 sums, packed one after another in the kernel's
   * memory (rowwise tables stay in `float64Sums`: rows are short and sparse). With the kernel, `float64Sums`
   * gets the plain segments' values only when `sums` is read.
   */
  private readonly block: Axpy32 | undefined;
  /** Where each plain segment starts in `block.lanes`, by segment offset. */
  private readonly laneOffsets = new Map<number, number>();
  private pending = 0;

  constructor(manifest: WeightManifest, options: AccumulatorOptions = {}) {
    this.float64Sums = emptySums(manifest);
    this.layout = rowLayout(manifest);
    let plain = 0;
    for (const seg of this.layout.segments) {
      if (seg.table) continue;
      this.laneOffsets.set(seg.offset, plain);
      plain += seg.size;
    }
    this.block = options.kernel === 'float64' || plain === 0 ? undefined : createAxpy32(plain);
  }

  /** The sums so far: the pending float32 block is added in first, so they include every add. */
  get sums(): AggregateSums {
    this.flush();
    const block = this.block;
    if (block) {
      const acc = this.float64Sums.weightedDeltaSum;
      for (const seg of this.layout.segments) {
        if (seg.table) continue;
        const from = this.laneOffsets.get(seg.offset)!;
        acc.set(block.sums.subarray(from, from + seg.size), seg.offset);
      }
    }
    return this.float64Sums;
  }

  /** Adds the float32 block into the float64 sums and clears it (one SIMD pass in the kernel's memory). */
  private flush(): void {
    if (!this.block || this.pending === 0) return;
    this.block.flush();
    this.pending = 0;
  }

  /** n·Δ of one plain segment for a direct caller's deltas that are not float32: added in float64, exactly. */
  private addPlainExact(offset: number, size: number, n: number, d: ArrayLike<number>): void {
    const block = this.block;
    const acc = block ? block.sums : this.float64Sums.weightedDeltaSum;
    const base = block ? this.laneOffsets.get(offset)! : offset;
    for (let k = 0; k < size; k++) acc[base + k]! += n * d[k]!;
  }

  /** Σ n·Δ of 1 to MAX_FUSED updates' plain segment, in one kernel pass (or the float64 loop without it). */
  private addPlain(offset: number, size: number, ns: readonly number[], ds: readonly ArrayLike<number>[]): void {
    if (this.block && ds.every((d) => d instanceof Float32Array)) {
      this.block.add(this.laneOffsets.get(offset)!, ds as Float32Array[], ns);
      return;
    }
    for (let j = 0; j < ds.length; j++) this.addPlainExact(offset, size, ns[j]!, ds[j]!);
  }

  private counted(n: number): void {
    this.float64Sums.weightSum += n;
    this.float64Sums.contributors += 1;
  }

  /**
   * One rule for absent rowWeights, shared with secagg's encodeContribution: every row of a rowwise tensor
   * then weighs numExamples (the tensor is averaged like any other). On the wire both paths require
   * rowWeights when the manifest has rowwise tensors (the SDK checks before sealing or masking; the
   * plain validator answers MANIFEST_MISMATCH), so the fallback only serves direct callers.
   */
  add(numExamples: number, delta: Float32Array, rowWeights: Float32Array | undefined): void {
    this.addMany([{ numExamples, delta, rowWeights }]);
  }

  /**
   * The same sums as `add` of each update in turn (bitwise: the kernel adds the terms in the same order with
   * the same roundings), with up to MAX_FUSED updates' plain segments summed in one pass over the sums. The
   * update pool's shards call it with the updates waiting at once (update-shard.ts).
   */
  addMany(updates: readonly DenseAdd[]): void {
    for (let i = 0; i < updates.length;) {
      // A group never straddles a block's end, so each float32 block still holds at most FLOAT32_BLOCK updates.
      const room = this.block ? FLOAT32_BLOCK - this.pending : MAX_FUSED;
      const group = updates.slice(i, i + Math.min(MAX_FUSED, room));
      i += group.length;
      const ns = group.map((u) => u.numExamples);
      for (const seg of this.layout.segments) {
        if (seg.table) continue;
        this.addPlain(
          seg.offset,
          seg.size,
          ns,
          group.map((u) => u.delta.subarray(seg.offset, seg.offset + seg.size)),
        );
      }
      for (const u of group) {
        this.addRows(u);
        this.counted(u.numExamples);
      }
      if (this.block && (this.pending += group.length) >= FLOAT32_BLOCK) this.flush();
    }
  }

  /** The rowwise tables of one dense update, straight into the float64 sums. */
  private addRows({ numExamples, delta, rowWeights }: DenseAdd): void {
    const acc = this.float64Sums.weightedDeltaSum;
    for (const t of this.layout.tables) {
      for (let r = 0; r < t.rows; r++) {
        const w = rowWeights ? (rowWeights[t.rowWeightOffset + r] ?? 0) : numExamples;
        if (w === 0) continue;
        this.float64Sums.rowWeightSums[t.rowWeightOffset + r]! += w;
        const start = t.offset + r * t.cols;
        for (let i = start, end = start + t.cols; i < end; i++) acc[i]! += w * delta[i]!;
      }
    }
  }

  /** The same sums as `add` of the dense equivalent (untouched rows: weight 0, delta 0), in O(touched rows). */
  addSparse(u: SparseUpdate): void {
    const acc = this.float64Sums.weightedDeltaSum;
    const n = u.numExamples;
    for (const seg of this.layout.segments) {
      if (seg.table) continue;
      const d = need(u.dense, seg.name, seg.size);
      this.addPlain(seg.offset, seg.size, [n], [d]);
    }
    for (const t of this.layout.tables) {
      const d = need(u.rowDeltas, t.name, u.rows.length * t.cols);
      for (let local = 0; local < u.rows.length; local++) {
        const row = u.rows[local]!;
        const w = u.rowWeights[local]!;
        if (!(row >= 0 && row < t.rows)) throw new RangeError(`row ${row} is outside ${t.name} (${t.rows} rows)`);
        if (w === 0) continue;
        this.float64Sums.rowWeightSums[t.rowWeightOffset + row]! += w;
        const start = t.offset + row * t.cols;
        for (let k = 0; k < t.cols; k++) acc[start + k]! += w * d[local * t.cols + k]!;
      }
    }
    this.counted(n);
    if (this.block && ++this.pending >= FLOAT32_BLOCK) this.flush();
  }
}

function need(map: ReadonlyMap<string, ArrayLike<number>>, name: string, length: number): ArrayLike<number> {
  const d = map.get(name);
  if (!d || d.length !== length) throw new RangeError(`sparse update: tensor ${name} needs ${length} values, got ${d?.length ?? 'none'}`);
  return d;
}
