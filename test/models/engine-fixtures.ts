import * as tf from '@tensorflow/tfjs';
import { DEFAULT_TRAINING_CONFIG, sharedLayout, type ModelSpec, type TrainingConfig } from '@fedrec/protocol';
import { SeededRandom } from '@fedrec/models/random.js';
import type { ModelRegistry } from '@fedrec/models/registry.js';
import { getFloat32 } from '@fedrec/client-sdk/store/behaviour-store.js';
import { MemoryStore } from '@fedrec/client-sdk/store/memory-store.js';
import { LayersTrainer, privateTensorKey } from '@fedrec/client-sdk/trainers/layers-trainer.js';
import { RecsysTrainer, memoryPrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import type { UserData } from '@fedrec/recsys/split.js';
import type { EngineFixtureFactory } from './engine.contract.js';

/** A tiny device per engine kind: small enough to fit in milliseconds, big enough to leave weights untouched. */
const CONFIG: TrainingConfig = { ...DEFAULT_TRAINING_CONFIG, optimizer: 'sgd', learningRate: 0.3, localEpochs: 2 };

/**
 * A recommender device over a 40-item catalogue: 4 positives with 2 sampled negatives each over
 * 2 epochs touch at most 20 item rows, so the rest of every item table must not move.
 */
export function recommenderFixture(registry: ModelRegistry, model: string, engine: string): EngineFixtureFactory {
  const numItems = 40;
  const spec: ModelSpec = { name: model, options: { numItems, factors: 4 } };
  const config: TrainingConfig = { ...CONFIG, batchSize: 4, extra: { negatives: 2 } };
  const data: UserData = {
    user: 3,
    numItems,
    trainItems: Int32Array.from([2, 5, 11, 17]),
    testItem: 23,
    testNegatives: Int32Array.from([0, 1, 7, 9, 13, 21, 30, 33, 36, 39]),
  };
  return async (seed) => {
    const global = registry.definition(model).initialWeights(spec.options, 9);
    const store = memoryPrivateStore();
    const trainer = new RecsysTrainer({ data, store, engine, seed, models: registry });
    return {
      trainer,
      task: (roundId) => ({ roundId, modelVersion: roundId, config, modelSpec: spec, global }),
      privateTensors: async () => new Map([...store.entries].map(([key, v]) => [key.slice(model.length + 1), v])),
      untouched: [],
      dispose: () => undefined,
    };
  };
}

/**
 * A layers device: one-hot examples over the first half of the input columns only, so the rows of
 * the first dense kernel that read the other half never get a gradient.
 */
export function layersFixture(registry: ModelRegistry, model: string, engine: string): EngineFixtureFactory {
  const spec: ModelSpec = { name: model, options: {} };
  const examples = 24;
  // One batch: tfjs shuffles with Math.random, so only a full batch makes a fit reproducible.
  const config: TrainingConfig = { ...CONFIG, batchSize: examples };
  return async (seed) => {
    const loader = registry.engine(model, engine);
    if (loader.kind !== 'layers') throw new Error(`${model}/${engine} is not a layers engine`);
    const probe = (await loader.load()).build(spec.options);
    const width = probe.model.inputs[0]!.shape[1]!;
    const kernel = probe.tensors.find((t) => t.shared && t.variable.shape.length === 2 && t.variable.shape[0] === width);
    probe.model.dispose();
    if (!kernel) throw new Error(`${model}: no shared kernel reads the input; give this model its own fixture`);
    const rng = new SeededRandom(seed);
    const xs = new Float32Array(examples * width);
    const ys = new Float32Array(examples);
    const reachable = Math.ceil(width / 2);
    for (let i = 0; i < examples; i++) {
      xs[i * width + rng.int(reachable)] = 1;
      ys[i] = rng.next() < 0.5 ? 1 : 0;
    }
    const store = new MemoryStore();
    const trainer = new LayersTrainer({
      store,
      models: registry,
      dataset: async () => ({ xs: tf.tensor2d(xs, [examples, width]), ys: tf.tensor2d(ys, [examples, 1]) }),
    });
    const global = registry.definition(model).initialWeights(spec.options, 9);
    const at = sharedLayout(global.manifest).find((l) => l.spec.name === kernel.name)!;
    const cols = at.size / width;
    const untouched: number[] = [];
    for (let row = reachable; row < width; row++) for (let c = 0; c < cols; c++) untouched.push(at.offset + row * cols + c);
    return {
      trainer,
      task: (roundId) => ({ roundId, modelVersion: roundId, config, modelSpec: spec, global }),
      async privateTensors() {
        const out = new Map<string, Float32Array>();
        for (const t of global.manifest.tensors.filter((s) => !s.shared)) {
          const v = await getFloat32(store, privateTensorKey(model, t.name));
          if (v) out.set(t.name, v);
        }
        return out;
      },
      untouched,
      dispose: () => trainer.dispose(),
    };
  };
}

/** What a realistic-size recommender fixture trains with. */
/**
 * A seeded user with `liked` distinct items (the first held out, the rest to train) and 99 held-out
 * negatives it never liked: the He et al. split, for engine and connection tests.
 */
export function seededUser(o: { seed: number; user: number; numItems: number; liked: number }): UserData {
  const rng = new SeededRandom(o.seed);
  const liked = new Set<number>();
  while (liked.size < o.liked) liked.add(rng.int(o.numItems));
  const [testItem, ...trainItems] = [...liked];
  const negatives = new Set<number>();
  while (negatives.size < 99) {
    const j = rng.int(o.numItems);
    if (!liked.has(j)) negatives.add(j);
  }
  return { user: o.user, numItems: o.numItems, trainItems: Int32Array.from(trainItems), testItem: testItem!, testNegatives: Int32Array.from(negatives) };
}

export interface RealisticFit {
  model: string;
  optimizer: 'sgd' | 'adam';
  batchSize: number;
  learningRate: number;
  /** FedProx's μ in the round config (absent = none). */
  proximalMu?: number;
}

/**
 * A recommender device at ML-100K size: a 1,682-item catalogue, the default model sizes
 * (recsys/defaults.ts), 106 liked items (ML-100K's mean per user), 4 sampled negatives each, one epoch.
 */
export function realisticRecommenderFixture(registry: ModelRegistry, engine: string, fit: RealisticFit): EngineFixtureFactory {
  const numItems = 1682;
  const spec: ModelSpec = { name: fit.model, options: recsysModelOptions(numItems) };
  const config: TrainingConfig = {
    localEpochs: 1,
    batchSize: fit.batchSize,
    learningRate: fit.learningRate,
    optimizer: fit.optimizer,
    extra: { negatives: RECSYS_DEFAULTS.federated.negatives },
    ...(fit.proximalMu !== undefined ? { proximalMu: fit.proximalMu } : {}),
  };
  const data = seededUser({ seed: 5, user: 11, numItems, liked: 107 });
  const global = registry.definition(fit.model).initialWeights(spec.options, 9);
  return async (seed) => {
    const store = memoryPrivateStore();
    const trainer = new RecsysTrainer({ data, store, engine, seed, models: registry });
    return {
      trainer,
      task: (roundId) => ({ roundId, modelVersion: roundId, config, modelSpec: spec, global }),
      privateTensors: async () => new Map([...store.entries].map(([key, v]) => [key.slice(fit.model.length + 1), v])),
      untouched: [],
      dispose: () => undefined,
    };
  };
}
