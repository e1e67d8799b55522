// Local-training throughput of every engine the model registry lists for a model (plain JS; tfjs on wasm and cpu), in samples/s.
// Run: npx tsx bench/recsys-train.ts [--model neumf] [--factors 8]
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { splitShared } from '@fedrec/protocol';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';

const opts = new Command()
  .option('--model <kind>', 'mf | gmf | mlp | neumf', RECSYS_DEFAULTS.model)
  .option('--factors <n>', 'GMF width', String(RECSYS_DEFAULTS.factors))
  .option('--items <n>', 'catalogue size', '1682')
  .option('--positives <n>', 'positives of the one device', '106')
  .option('--batch <n>', 'batch size', String(RECSYS_DEFAULTS.federated.batchSize))
  .parse()
  .opts<{ model: string; factors: string; items: string; positives: string; batch: string }>();

const entry = defaultModelRegistry.get(opts.model);
const options = recsysModelOptions(Number(opts.items), { factors: Number(opts.factors) });
const w = entry.definition.initialWeights(options, 1);
const shared = splitShared(w.manifest, w.body);
const numItems = Number(opts.items);
const positives = Array.from({ length: Number(opts.positives) }, (_, i) => (i * 13) % numItems);
const fitOptions = { learningRate: 0.1, batchSize: Number(opts.batch) };

function measure(label: string, run: (seed: number) => Promise<number> | number, minMs: number) {
  return (async () => {
    let samples = 0;
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < minMs) samples += await run(runs++);
    const s = (performance.now() - start) / 1000;
    console.log(
      `${label.padEnd(28)} ${Math.round(samples / s)
        .toLocaleString('en-US')
        .padStart(10)} samples/s  (${runs} device fits of ${samples / runs} samples)`,
    );
  })();
}

console.log(`model ${opts.model} ${JSON.stringify(options)}, ${opts.positives} positives + 4 negatives each, batch ${opts.batch}`);
const plan = (seed: number) => planLocalTraining(positives, numItems, { epochs: 1, negatives: 4, seed });
for (const [name, loader] of Object.entries(entry.engines)) {
  if (loader.kind !== 'recommender') continue;
  const engine = await loader.load();
  const priv = engine.initialPrivate(options, 2);
  const fit = async (seed: number) => (await engine.fit(options, shared, priv, plan(seed), fitOptions)).numExamples;
  // Only the tfjs engine depends on the backend; the plain-JS one runs once.
  if (name !== 'tfjs') {
    await measure(`${name} engine`, fit, 3000);
    continue;
  }
  for (const backend of ['wasm', 'cpu']) {
    try {
      const got = await useBestBackend([backend]);
      await measure(`${name} engine on ${got}`, fit, 4000);
    } catch (err) {
      console.log(`tfjs ${backend}: unavailable (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}
console.log(`tensors alive at exit: ${tf.memory().numTensors}`);
