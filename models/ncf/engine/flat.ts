import { rowLayout, type WeightManifest } from '@fedrec/protocol';
import type { LocalFitResult } from './local-fit.js';

/** The wire form of a local result: a full shared delta and one weight per row of each rowwise tensor. */
export function flattenLocalResult(manifest: WeightManifest, r: LocalFitResult): { delta: Float32Array; rowWeights: Float32Array } {
  const layout = rowLayout(manifest);
  const delta = new Float32Array(layout.deltaLength);
  const rowWeights = new Float32Array(layout.rowWeightsLength);
  for (const { name, offset, size, table } of layout.segments) {
    if (table) {
      const rows = r.itemDeltas.get(name);
      if (!rows) throw new Error(`no delta for rowwise tensor ${name}`);
      const width = table.cols;
      r.localItems.forEach((item, local) => {
        delta.set(rows.subarray(local * width, (local + 1) * width), offset + item * width);
        rowWeights[table.rowWeightOffset + item] = r.rowCounts[local]!;
      });
    } else {
      const d = r.denseDeltas.get(name);
      if (!d || d.length !== size) throw new Error(`no delta for tensor ${name}`);
      delta.set(d, offset);
    }
  }
  return { delta, rowWeights };
}
