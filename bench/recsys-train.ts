// Local-training throughput of every engine the model registry lists for a model (plain JS; tfjs on wasm and cpu),
// in samples/s, for each optimizer the CLI accepts, and the engine the SDK's 'auto' rule picks here.
// Run: npm run bench -- recsys-train [--model neumf] [--factors 8] [--optimizers sgd,adam]
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { splitShared } from '@fedrec/protocol';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { chooseEngine, isGpuBackend } from '@fedrec/models/engine-choice.js';
import { currentBackendInfo, selectBackend } from '@fedrec/client-sdk/node/index.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';

const opts = new Command()
  .option('--model <kind>', 'mf | gmf | mlp | neumf', RECSYS_DEFAULTS.model)
  .option('--factors <n>', 'GMF width', String(RECSYS_DEFAULTS.factors))
  .option('--items <n>', 'catalogue size', '1682')
  .option('--positives <n>', 'positives of the one device', '106')
  .option('--batch <n>', 'batch size', String(RECSYS_DEFAULTS.federated.batchSize))
  .option('--optimizers <list>', 'comma-separated: sgd, adam', 'sgd,adam')
  .option('--backends <list>', 'tfjs backends to time', 'wasm,cpu')
  .parse()
  .opts<{ model: string; factors: string; items: string; positives: string; batch: string; optimizers: string; backends: string }>();

const entry = defaultModelRegistry.get(opts.model);
const options = recsysModelOptions(Number(opts.items), { factors: Number(opts.factors) });
const w = entry.definition.initialWeights(options, 1);
const shared = splitShared(w.manifest, w.body);
const numItems = Number(opts.items);
const positives = Array.from({ length: Number(opts.positives) }, (_, i) => (i * 13) % numItems);
const optimizers = opts.optimizers.split(',') as Array<'sgd' | 'adam'>;
const learningRate = { sgd: RECSYS_DEFAULTS.federated.clientLr, adam: RECSYS_DEFAULTS.centralized.learningRate };

function measure(label: string, run: (seed: number) => Promise<number> | number, minMs: number) {
  return (async () => {
    let samples = 0;
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < minMs) samples += await run(runs++);
    const s = (performance.now() - start) / 1000;
    console.log(
      `${label.padEnd(36)} ${Math.round(samples / s)
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
  for (const optimizer of optimizers) {
    const fitOptions = { learningRate: learningRate[optimizer], batchSize: Number(opts.batch), optimizer };
    const fit = async (seed: number) => (await engine.fit(options, shared, priv, plan(seed), fitOptions)).numExamples;
    // Only the tfjs engine depends on the backend; the plain-JS one runs once.
    if (name !== 'tfjs') {
      await measure(`${name} engine, ${optimizer}`, fit, 3000);
      continue;
    }
    for (const backend of opts.backends.split(',')) {
      try {
        const got = await useBestBackend([backend]);
        await measure(`${name} engine on ${got}, ${optimizer}`, fit, 4000);
      } catch (err) {
        console.log(`tfjs ${backend}: unavailable (${err instanceof Error ? err.message : String(err)})`);
      }
    }
  }
}
// What an app or `npm run simulate` gets by default here: the SDK's rule for the backend it would select.
const picked = await selectBackend({ platform: 'node' }).catch(() => undefined);
const info = currentBackendInfo();
console.log(
  `engine 'auto' picks here: ${chooseEngine('auto', info, Object.keys(entry.engines))} (tfjs backend ${picked ?? 'none'}${isGpuBackend(info) ? ', a GPU' : ', no GPU'})`,
);
console.log(`tensors alive at exit: ${tf.memory().numTensors}`);
