import { sharedLayout, type WeightManifest } from '@fedrec/protocol';
import type { LocalFitResult } from './local-fit.js';

/** The wire form of a local result: a full shared delta and one weight per row of each rowwise tensor. */
export function flattenLocalResult(manifest: WeightManifest, r: LocalFitResult): { delta: Float32Array; rowWeights: Float32Array } {
  const layout = sharedLayout(manifest);
  const delta = new Float32Array(layout.reduce((n, t) => n + t.size, 0));
  const rowWeights = new Float32Array(layout.reduce((n, t) => n + (t.spec.rowwise ? (t.spec.shape[0] ?? 0) : 0), 0));
  let rowOffset = 0;
  for (const { spec, offset, size } of layout) {
    if (spec.rowwise) {
      const rows = r.itemDeltas.get(spec.name);
      if (!rows) throw new Error(`no delta for rowwise tensor ${spec.name}`);
      const width = spec.shape[1] ?? 1;
      r.localItems.forEach((item, local) => {
        delta.set(rows.subarray(local * width, (local + 1) * width), offset + item * width);
        rowWeights[rowOffset + item] = r.rowCounts[local]!;
      });
      rowOffset += spec.shape[0] ?? 0;
    } else {
      const d = r.denseDeltas.get(spec.name);
      if (!d || d.length !== size) throw new Error(`no delta for tensor ${spec.name}`);
      delta.set(d, offset);
    }
  }
  return { delta, rowWeights };
}
