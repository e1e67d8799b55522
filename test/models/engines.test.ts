import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { DEFAULT_TRAINING_CONFIG } from '@fedrec/protocol';
import { RECSYS_DEFAULTS } from '@fedrec/recsys/defaults.js';
import { engineContract, enginesAgreeContract, type EngineFixtureFactory } from './engine.contract.js';
import { layersFixture, realisticRecommenderFixture, recommenderFixture } from './engine-fixtures.js';

/** float32 sums in another order (tfjs matmuls vs hand-written loops) differ by about this much on a tiny model. */
const ENGINES_AGREE_WITHIN = 1e-5;

/**
 * At ML-100K size (1,682 items, default model, 530 examples, one epoch) the engines must agree within
 * this much on the loss, every delta, the private rows and the metrics. Measured here: largest delta
 * difference 2.4e-7 (SGD) and 1.6e-4 (Adam, NeuMF batch 4); see README "Engines".
 * SGD's differences are float32 rounding; Adam divides by √v̂, which magnifies rounding where gradients are tiny.
 */
const REALISTIC_AGREE_WITHIN = { sgd: 1e-5, adam: 1e-3 } as const;

/** Every optimizer the coordinator CLI accepts (apps/coordinator-cli/cli-config.ts), with a learning rate typical for it. */
const OPTIMIZERS = [
  { optimizer: 'sgd', learningRate: RECSYS_DEFAULTS.federated.clientLr },
  { optimizer: 'adam', learningRate: RECSYS_DEFAULTS.centralized.learningRate },
] as const;

/** The default batch sizes: the federated recsys default (4) and the protocol's (64). */
const BATCH_SIZES = [RECSYS_DEFAULTS.federated.batchSize, DEFAULT_TRAINING_CONFIG.batchSize];

// Every engine of every registered model runs the contract: a new model is its file plus its registry line.
describe('registered model engines', function () {
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });

  for (const name of defaultModelRegistry.names()) {
    const fixtures: Array<[string, EngineFixtureFactory]> = Object.entries(defaultModelRegistry.get(name).engines).map(([engine, loader]) => [
      engine,
      loader.kind === 'layers' ? layersFixture(defaultModelRegistry, name, engine) : recommenderFixture(defaultModelRegistry, name, engine),
    ]);
    for (const [engine, make] of fixtures) {
      // Layers fits shuffle their one batch with Math.random: the same data, summed in another order.
      engineContract(`${name} (${engine})`, make, { sameSeedTolerance: defaultModelRegistry.engine(name, engine).kind === 'layers' ? 1e-6 : 0 });
    }
    if (fixtures.length > 1) enginesAgreeContract(name, fixtures, ENGINES_AGREE_WITHIN);
  }
});

describe('recommender engines agree at ML-100K size, for every optimizer and default batch size', function () {
  // tfjs on wasm with batch 4 takes seconds per fit on a loaded 2-core machine.
  this.timeout(120_000);
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });

  for (const model of [RECSYS_DEFAULTS.model, 'mf']) {
    const engines = Object.keys(defaultModelRegistry.get(model).engines);
    for (const { optimizer, learningRate } of OPTIMIZERS) {
      for (const batchSize of BATCH_SIZES) {
        const fit = { model, optimizer, batchSize, learningRate };
        enginesAgreeContract(
          `${model} ${optimizer} lr ${learningRate} batch ${batchSize}`,
          engines.map((engine) => [engine, realisticRecommenderFixture(defaultModelRegistry, engine, fit)]),
          REALISTIC_AGREE_WITHIN[optimizer],
        );
      }
    }
  }
});
