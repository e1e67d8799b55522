import { rowWeightsSize, sharedLayout, sharedSize } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol';

/**
 * Everything FedAvg needs from a round, and exactly what secure aggregation can deliver:
 * sums over accepted clients, never one client's delta. Field for field the same shape as
 * secagg's decoded AggregateSums, so a secure-aggregation collector can return those as they are.
 */
export interface AggregateSums {
  /** Σ weight·Δ in manifest order: weight n_i for plain elements, w_ir for rows of rowwise tensors. */
  weightedDeltaSum: Float64Array;
  /** Σ n_i over accepted clients. */
  weightSum: number;
  /** Σ w_ir: one total per row of each rowwise tensor, in manifest order. */
  rowWeightSums: Float64Array;
  /** How many client results went into the sums. */
  contributors: number;
}

/** One shared tensor's place in the flat body and, when rowwise, in the row-weight vector. */
export interface SharedSegment {
  offset: number;
  size: number;
  /** Present for rowwise tensors: rows × cols, and where this tensor's rows start among the row weights. */
  rows?: { count: number; cols: number; weightOffset: number };
}

export function sharedSegments(manifest: WeightManifest): SharedSegment[] {
  let weightOffset = 0;
  return sharedLayout(manifest).map(({ spec, offset, size }) => {
    if (!spec.rowwise) return { offset, size };
    const count = spec.shape[0] ?? 0;
    const segment = { offset, size, rows: { count, cols: count === 0 ? 0 : size / count, weightOffset } };
    weightOffset += count;
    return segment;
  });
}

export function emptySums(manifest: WeightManifest): AggregateSums {
  return {
    weightedDeltaSum: new Float64Array(sharedSize(manifest)),
    weightSum: 0,
    rowWeightSums: new Float64Array(rowWeightsSize(manifest)),
    contributors: 0,
  };
}

/**
 * Streams client results into running sums, so memory stays O(model size) however many
 * clients report. Inputs must already be validated (lengths, finiteness).
 */
export class UpdateAccumulator {
  readonly sums: AggregateSums;
  private readonly segments: SharedSegment[];

  constructor(manifest: WeightManifest) {
    this.sums = emptySums(manifest);
    this.segments = sharedSegments(manifest);
  }

  /**
   * One rule for absent rowWeights, shared with secagg's encodeContribution: every row of a rowwise tensor
   * then weighs numExamples (the tensor is averaged like any other). On the wire both paths require
   * rowWeights when the manifest has rowwise tensors (the SDK checks before sealing or masking; the
   * plain validator answers MANIFEST_MISMATCH), so the fallback only serves direct callers.
   */
  add(numExamples: number, delta: Float32Array, rowWeights: Float32Array | undefined): void {
    const acc = this.sums.weightedDeltaSum;
    for (const seg of this.segments) {
      if (!seg.rows) {
        for (let i = seg.offset, end = seg.offset + seg.size; i < end; i++) acc[i]! += numExamples * delta[i]!;
        continue;
      }
      const { count, cols, weightOffset } = seg.rows;
      for (let r = 0; r < count; r++) {
        const w = rowWeights ? (rowWeights[weightOffset + r] ?? 0) : numExamples;
        if (w === 0) continue;
        this.sums.rowWeightSums[weightOffset + r]! += w;
        const start = seg.offset + r * cols;
        for (let i = start, end = start + cols; i < end; i++) acc[i]! += w * delta[i]!;
      }
    }
    this.sums.weightSum += numExamples;
    this.sums.contributors += 1;
  }
}
