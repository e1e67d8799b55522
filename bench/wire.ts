// `npm run bench -- wire`: what one model download and one update weigh per codec (none, fp16, int8), on
// ML-100K's NeuMF (1,682 items) and the 17,632-item catalogue of issue 12, with the codecs' speed and error
// (medians of 7 runs, one process). Bytes are exact; MB/s depend on the machine's load.
import { neumfModel } from '@fedrec/models/neumf.js';
import { COMPRESSIONS, decodeUpdatePayload, decodeWeights, encodeUpdatePayload, encodeWeights, rowLayout, sharedSize } from '@fedrec/protocol';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const kb = (n: number) => `${(n / 1e3).toFixed(1)} kB`;

function time(fn: () => void): number {
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

for (const numItems of [1682, 17_632]) {
  const options = recsysModelOptions(numItems);
  const global = neumfModel.initialWeights(options, 1);
  // Trained-looking weights: the initial ones plus a spread, so int8's per-row ranges differ.
  for (let i = 0; i < global.body.length; i++) global.body[i]! += Math.sin(i) * 0.05 * (1 + (i % 7));
  const n = sharedSize(global.manifest);
  // A device's update touching 100 items (ML-100K's mean is 106), with the dense MLP tensors.
  const layout = rowLayout(global.manifest);
  const delta = new Float32Array(n);
  const rowWeights = new Float32Array(layout.rowWeightsLength);
  for (const seg of layout.segments) {
    if (!seg.table) for (let i = 0; i < seg.size; i++) delta[seg.offset + i] = Math.cos(i) * 1e-3;
  }
  for (const t of layout.tables) {
    for (let k = 0; k < 100; k++) {
      const row = (k * 7919) % t.rows;
      rowWeights[t.rowWeightOffset + row] = 1;
      for (let j = 0; j < t.cols; j++) delta[t.offset + row * t.cols + j] = Math.sin(k + j) * 1e-2;
    }
  }
  const update = { numExamples: 100, metrics: { loss: 0.4 }, delta, rowWeights };
  console.log(`\nNeuMF, ${numItems} items: ${n} shared floats`);
  console.log('codec   download      ratio   encode ms  decode ms  max |error|   update (100 items)  ratio');
  const base = encodeWeights(global).body.byteLength;
  const baseUpdate = encodeUpdatePayload(update, global.manifest).byteLength;
  for (const codec of COMPRESSIONS) {
    const wire = encodeWeights(global, codec);
    const encodeMs = time(() => encodeWeights(global, codec));
    const decodeMs = time(() => decodeWeights(wire));
    const back = decodeWeights(wire).body;
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(back[i]! - global.body[i]!));
    const up = encodeUpdatePayload(update, global.manifest, { compression: codec });
    decodeUpdatePayload(up, global.manifest, codec);
    console.log(
      `${codec.padEnd(6)}  ${kb(wire.body.byteLength).padStart(10)}  ${(wire.body.byteLength / base).toFixed(3).padStart(7)}  ${encodeMs.toFixed(2).padStart(9)}  ${decodeMs.toFixed(2).padStart(9)}  ${err.toExponential(2).padStart(11)}   ${kb(up.byteLength).padStart(17)}  ${(up.byteLength / baseUpdate).toFixed(3)}`,
    );
  }
}
