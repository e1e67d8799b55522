// Local-training throughput: the plain-JS fast path and the tfjs device path (wasm, cpu), in samples/s.
// Run: npx tsx bench/recsys-train.ts [--model neumf] [--factors 8]
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { splitShared } from '@fedrec/protocol';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { fitLocalTf } from '@fedrec/models/ncf/tfjs/local-fit.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';

const opts = new Command()
  .option('--model <kind>', 'mf | gmf | mlp | neumf', RECSYS_DEFAULTS.model)
  .option('--factors <n>', 'GMF width', String(RECSYS_DEFAULTS.factors))
  .option('--items <n>', 'catalogue size', '1682')
  .option('--positives <n>', 'positives of the one device', '106')
  .option('--batch <n>', 'batch size', String(RECSYS_DEFAULTS.federated.batchSize))
  .parse()
  .opts<{ model: NcfKind; factors: string; items: string; positives: string; batch: string }>();

const a = ncfArch(opts.model, recsysModelOptions(Number(opts.items), { factors: Number(opts.factors) }));
const w = ncfInitialWeights(a, 1);
const shared = splitShared(w.manifest, w.body);
const priv = ncfInitialPrivate(a, 2);
const positives = Array.from({ length: Number(opts.positives) }, (_, i) => (i * 13) % a.numItems);
const fitOptions = { learningRate: 0.1, batchSize: Number(opts.batch) };

function measure(label: string, run: (seed: number) => Promise<number> | number, minMs: number) {
  return (async () => {
    let samples = 0;
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < minMs) samples += await run(runs++);
    const s = (performance.now() - start) / 1000;
    console.log(`${label.padEnd(28)} ${Math.round(samples / s).toLocaleString('en-US').padStart(10)} samples/s  (${runs} device fits of ${samples / runs} samples)`);
  })();
}

console.log(`model ${opts.model}, factors ${opts.factors}, MLP ${a.mlpDim}x2 -> ${a.hidden.join('-')}, ${opts.positives} positives + 4 negatives each, batch ${opts.batch}`);
const plan = (seed: number) => planLocalTraining(positives, a.numItems, { epochs: 1, negatives: 4, seed });
await measure('plain JS (simulation path)', (seed) => fitLocalJs(a, shared, priv, plan(seed), fitOptions).numExamples, 3000);
for (const backend of ['wasm', 'cpu']) {
  try {
    const got = await useBestBackend([backend]);
    await measure(`tfjs ${got} (device path)`, async (seed) => (await fitLocalTf(a, shared, priv, plan(seed), fitOptions)).numExamples, 4000);
  } catch (err) {
    console.log(`tfjs ${backend}: unavailable (${err instanceof Error ? err.message : String(err)})`);
  }
}
console.log(`tensors alive at exit: ${tf.memory().numTensors}`);
