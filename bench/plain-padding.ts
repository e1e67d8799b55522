/**
 * What plain mode's one size costs (protocol/update-payload.ts, PADDED_ITEM_ROWS): for NeuMF's defaults and for
 * MF-32 (simulate's default) at a few catalogue sizes, the size bucket every sparse plain update has, against the
 * unpadded update of a device that touched a given number of items and against the dense update.
 * Run: `npx tsx bench/plain-padding.ts`.
 */
import { mfModel } from '@fedrec/models/mf.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import {
  encodeUpdatePayload,
  PADDED_ITEM_ROWS,
  paddedBucketBytes,
  rowLayout,
  rowWeightsSize,
  sharedSize,
  type UpdatePayload,
  type WeightManifest,
} from '@fedrec/protocol';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** A device that touched `items` item rows in every table (weights 1, a non-zero delta). */
function touching(manifest: WeightManifest, items: number): UpdatePayload {
  const delta = new Float32Array(sharedSize(manifest));
  const rowWeights = new Float32Array(rowWeightsSize(manifest));
  let r = 0;
  for (const t of rowLayout(manifest).tables) {
    for (let row = 0; row < t.rows; row++, r++) {
      if (row >= items) continue;
      rowWeights[r] = 1;
      delta.fill(0.01, t.offset + row * t.cols, t.offset + (row + 1) * t.cols);
    }
  }
  return { numExamples: items, metrics: { loss: 0.5 }, delta, rowWeights };
}

console.log(`Row budget: ${PADDED_ITEM_ROWS} rows per item table.`);
console.log('| model | items | padded bucket (float32) | fp16 | int8 | unpadded, 50 items touched | unpadded, 325 items | dense |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const models = [
  { name: 'NeuMF (defaults)', manifest: (n: number) => neumfModel.manifest(recsysModelOptions(n)) },
  { name: 'MF-32', manifest: (n: number) => mfModel.manifest(recsysModelOptions(n, { factors: 32 })) },
];
for (const model of models) {
  for (const numItems of [400, 1682, 100_000]) {
    const manifest = model.manifest(numItems);
    const unpadded = (items: number) => encodeUpdatePayload(touching(manifest, items), manifest, { pad: false }).length;
    const dense = encodeUpdatePayload(touching(manifest, numItems)).length;
    const buckets = (['none', 'fp16', 'int8'] as const).map((c) => kib(paddedBucketBytes(manifest, c)));
    console.log(`| ${model.name} | ${numItems.toLocaleString('en')} | ${buckets.join(' | ')} | ${kib(unpadded(50))} | ${kib(unpadded(325))} | ${kib(dense)} |`);
  }
}
