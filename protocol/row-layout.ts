import { sharedLayout, type WeightManifest } from './weights.js';

/** One rowwise tensor: where its rows sit in the flat shared body and where its row weights start. */
export interface RowTable {
  /** Manifest name of the tensor. */
  name: string;
  /** First float of the tensor in the shared body. */
  offset: number;
  rows: number;
  /** Floats per row (shape[1]). */
  cols: number;
  /** Index of this tensor's first row among the row weights (rowWeights, rowWeightSums). */
  rowWeightOffset: number;
}

/** One shared tensor's place in the flat body; `table` is present for rowwise tensors. */
export interface SharedSegment {
  name: string;
  offset: number;
  size: number;
  table?: RowTable;
}

/**
 * The aggregation layout of a manifest, worked out once for every side (coordinator accumulator,
 * FedAvg, secagg's contribution vector, simulations): the shared body is the shared tensors in
 * manifest order; the row weights are one per row of every rowwise tensor, in the same order.
 */
export interface RowLayout {
  segments: SharedSegment[];
  tables: RowTable[];
  /** Floats in the shared body (the delta's length). */
  deltaLength: number;
  /** Row weights a delta carries. */
  rowWeightsLength: number;
}

export function rowLayout(manifest: WeightManifest): RowLayout {
  const tables: RowTable[] = [];
  let deltaLength = 0;
  let rowWeightsLength = 0;
  const segments = sharedLayout(manifest).map(({ spec, offset, size }): SharedSegment => {
    deltaLength = offset + size;
    if (!spec.rowwise) return { name: spec.name, offset, size };
    const rows = spec.shape[0] ?? 0;
    const table: RowTable = { name: spec.name, offset, rows, cols: rows === 0 ? 0 : size / rows, rowWeightOffset: rowWeightsLength };
    rowWeightsLength += rows;
    tables.push(table);
    return { name: spec.name, offset, size, table };
  });
  return { segments, tables, deltaLength, rowWeightsLength };
}
