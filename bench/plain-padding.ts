/**
 * What plain mode's padding costs (protocol/update-payload.ts, PADDED_ITEM_ROWS): for NeuMF's defaults at a few
 * catalogue sizes, the size bucket every plain update is padded to, against the unpadded update of a device that
 * touched a given number of items and against the dense update. Run: `npx tsx bench/plain-padding.ts`.
 */
import { neumfModel } from '@fedrec/models/neumf.js';
import { encodeUpdatePayload, paddedBucketBytes, rowLayout, rowWeightsSize, sharedSize, type UpdatePayload } from '@fedrec/protocol';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** A device that touched `items` item rows in every table (weights 1, a non-zero delta). */
function touching(manifest: ReturnType<typeof neumfModel.manifest>, items: number): UpdatePayload {
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

console.log('| items | padded bucket (float32) | fp16 | int8 | unpadded, 50 items touched | unpadded, 325 items | dense |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const numItems of [400, 1682, 100_000]) {
  const manifest = neumfModel.manifest(recsysModelOptions(numItems));
  const unpadded = (items: number) => encodeUpdatePayload(touching(manifest, items), manifest, { pad: false }).length;
  const dense = encodeUpdatePayload(touching(manifest, numItems)).length;
  const buckets = (['none', 'fp16', 'int8'] as const).map((c) => kib(paddedBucketBytes(manifest, c)));
  console.log(`| ${numItems.toLocaleString('en')} | ${buckets.join(' | ')} | ${kib(unpadded(50))} | ${kib(unpadded(325))} | ${kib(dense)} |`);
}
