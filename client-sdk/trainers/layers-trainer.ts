import * as tf from '@tensorflow/tfjs';
import { rowLayout, sharedLayout, tensorSize, type ModelSpec, type TrainingConfig, type WeightManifest, type Weights } from '@fedrec/protocol';
import { silentLogger, type Logger } from '../logger.js';
import { getFloat32, type BehaviourStore } from '../store/behaviour-store.js';
import type { EvaluateOutcome, FitOutcome, TaskContext, Trainer } from '../trainer.js';
import type { BuiltLayersModel, MappedTensor } from '@fedrec/models/layers-engine.js';
import { defaultModelRegistry, type ModelRegistry } from '@fedrec/models/registry.js';

export interface DatasetRequest {
  purpose: 'fit' | 'evaluate';
  store: BehaviourStore;
  modelSpec: ModelSpec;
  config: TrainingConfig;
  roundId: number;
}

/** Training examples as tensors; the trainer disposes them. */
export interface Dataset {
  xs: tf.Tensor | tf.Tensor[];
  ys: tf.Tensor;
  /** Per row of each rowwise shared tensor: how many examples touched it (default: derived from the delta). */
  rowWeights?: Float32Array;
}

/** Turns the device's behaviour store into examples; null (or zero rows) means nothing to learn from. */
export type DatasetFn = (request: DatasetRequest) => Promise<Dataset | null>;

export interface LayersTrainerOptions {
  store: BehaviourStore;
  dataset: DatasetFn;
  /** Where models are looked up by name (default: the built-in registry); each needs a layers engine. */
  models?: ModelRegistry;
  logger?: Logger;
}

interface CachedModel {
  built: BuiltLayersModel;
  byName: Map<string, MappedTensor>;
  /** Private tensors as first built: what a user without stored state starts from. */
  initialPrivate: Map<string, Float32Array>;
}

export const PRIVATE_KEY_PREFIX = 'fedrec:private:';

function privateKey(modelName: string, tensorName: string): string {
  return `${PRIVATE_KEY_PREFIX}${modelName}:${tensorName}`;
}

function variableSize(v: tf.LayerVariable): number {
  return v.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

function writeVariable(v: tf.LayerVariable, values: Float32Array): void {
  // Copy: some backends keep a reference to the array they are given.
  tf.tidy(() => void v.write(tf.tensor(new Float32Array(values), v.shape as number[], 'float32')));
}

function makeOptimizer(config: TrainingConfig): tf.Optimizer {
  return config.optimizer === 'adam' ? tf.train.adam(config.learningRate) : tf.train.sgd(config.learningRate);
}

function exampleCount(data: Dataset): number {
  return data.ys.shape[0] ?? 0;
}

/** Default row weights: every row the update touched counts each local example. */
function rowWeightsFromDelta(manifest: WeightManifest, delta: Float32Array, numExamples: number): Float32Array | undefined {
  const { tables, rowWeightsLength } = rowLayout(manifest);
  if (tables.length === 0) return undefined;
  const weights = new Float32Array(rowWeightsLength);
  for (const { offset, rows, cols, rowWeightOffset } of tables) {
    for (let row = 0; row < rows; row++) {
      const start = offset + row * cols;
      for (let j = 0; j < cols; j++) {
        if (delta[start + j] !== 0) {
          weights[rowWeightOffset + row] = numExamples;
          break;
        }
      }
    }
  }
  return weights;
}

/**
 * Trains any tfjs LayersModel a registered builder makes from the task's ModelSpec: loads the
 * global shared weights, keeps private tensors on the device (in the store between rounds),
 * and returns new − global for the shared tensors only.
 */
export class LayersTrainer implements Trainer {
  private readonly store: BehaviourStore;
  private readonly dataset: DatasetFn;
  private readonly registry: ModelRegistry;
  private readonly logger: Logger;
  private readonly models = new Map<string, Promise<CachedModel>>();
  /** Every model built so far, so dispose() can free them without waiting. */
  private readonly built: tf.LayersModel[] = [];

  constructor(options: LayersTrainerOptions) {
    this.store = options.store;
    this.dataset = options.dataset;
    this.registry = options.models ?? defaultModelRegistry;
    this.logger = options.logger ?? silentLogger;
  }

  async fit(ctx: TaskContext): Promise<FitOutcome> {
    const cached = await this.prepare(ctx);
    const manifest = ctx.global.manifest;
    const data = await this.dataset({ purpose: 'fit', store: this.store, modelSpec: ctx.modelSpec, config: ctx.config, roundId: ctx.roundId });
    if (!data || exampleCount(data) === 0) {
      if (data) tf.dispose([data.xs, data.ys]);
      const delta = new Float32Array(ctx.global.body.length);
      const rowWeights = rowWeightsFromDelta(manifest, delta, 0);
      return { delta, numExamples: 0, metrics: {}, ...(rowWeights ? { rowWeights } : {}) };
    }
    const numExamples = exampleCount(data);
    const optimizer = makeOptimizer(ctx.config);
    try {
      cached.built.model.compile({ optimizer, loss: cached.built.loss ?? 'binaryCrossentropy' });
      const history = await cached.built.model.fit(data.xs, data.ys, {
        epochs: ctx.config.localEpochs,
        batchSize: ctx.config.batchSize,
        shuffle: true,
        verbose: 0,
      });
      const losses = (history.history['loss'] ?? []).map(Number);
      const delta = await this.sharedDelta(cached, ctx.global);
      await this.savePrivate(cached, ctx.modelSpec.name);
      const rowWeights = data.rowWeights ?? rowWeightsFromDelta(manifest, delta, numExamples);
      const metrics: Record<string, number> = {};
      if (losses.length > 0) metrics['loss'] = losses[losses.length - 1]!;
      this.logger.debug({ model: ctx.modelSpec.name, numExamples, ...metrics }, 'local fit done');
      return { delta, numExamples, metrics, ...(rowWeights ? { rowWeights } : {}) };
    } finally {
      optimizer.dispose();
      tf.dispose([data.xs, data.ys]);
    }
  }

  async evaluate(ctx: TaskContext): Promise<EvaluateOutcome> {
    const cached = await this.prepare(ctx);
    const data = await this.dataset({
      purpose: 'evaluate',
      store: this.store,
      modelSpec: ctx.modelSpec,
      config: ctx.config,
      roundId: ctx.roundId,
    });
    if (!data || exampleCount(data) === 0) {
      if (data) tf.dispose([data.xs, data.ys]);
      return { numExamples: 0, metrics: {} };
    }
    const optimizer = makeOptimizer(ctx.config); // compile needs one; evaluate never steps it
    try {
      const { model } = cached.built;
      model.compile({ optimizer, loss: cached.built.loss ?? 'binaryCrossentropy', metrics: cached.built.metrics ?? [] });
      const result = model.evaluate(data.xs, data.ys, { batchSize: ctx.config.batchSize });
      const scalars = Array.isArray(result) ? result : [result];
      const values = await Promise.all(scalars.map(async (s) => (await s.data())[0] ?? NaN));
      tf.dispose(scalars);
      const metrics: Record<string, number> = {};
      model.metricsNames.forEach((name, i) => {
        if (values[i] !== undefined) metrics[name] = values[i]!;
      });
      return { numExamples: exampleCount(data), metrics };
    } finally {
      optimizer.dispose();
      tf.dispose([data.xs, data.ys]);
    }
  }

  /** Frees every model this trainer built. */
  dispose(): void {
    for (const model of this.built) model.dispose();
    this.built.length = 0;
    this.models.clear();
  }

  /** Builds (once per spec) and loads global shared plus this device's private weights. */
  private async prepare(ctx: TaskContext): Promise<CachedModel> {
    const cached = await this.modelFor(ctx.modelSpec);
    this.checkManifest(cached, ctx.global.manifest, ctx.modelSpec.name);
    for (const { spec, offset, size } of sharedLayout(ctx.global.manifest)) {
      writeVariable(cached.byName.get(spec.name)!.variable, ctx.global.body.subarray(offset, offset + size));
    }
    for (const mapped of cached.built.tensors.filter((t) => !t.shared)) {
      const stored = await getFloat32(this.store, privateKey(ctx.modelSpec.name, mapped.name));
      const usable = stored && stored.length === variableSize(mapped.variable);
      if (stored && !usable) this.logger.warn({ tensor: mapped.name }, 'stored private tensor has another shape: starting it afresh');
      writeVariable(mapped.variable, usable ? stored : cached.initialPrivate.get(mapped.name)!);
    }
    return cached;
  }

  /** Built once per spec; the promise is cached so concurrent tasks share one model. */
  private modelFor(spec: ModelSpec): Promise<CachedModel> {
    const key = JSON.stringify([spec.name, Object.entries(spec.options).sort(([a], [b]) => (a < b ? -1 : 1))]);
    let cached = this.models.get(key);
    if (!cached) {
      cached = this.build(spec);
      this.models.set(key, cached);
      // A failed build (unknown model, bad options) is not cached: the next task tries again.
      void cached.catch(() => this.models.delete(key));
    }
    return cached;
  }

  private async build(spec: ModelSpec): Promise<CachedModel> {
    const loader = this.registry.engine(spec.name);
    if (loader.kind !== 'layers') throw new Error(`LayersTrainer trains models with a layers engine; "${spec.name}" has a ${loader.kind} engine`);
    const built = (await loader.load()).build(spec.options);
    this.built.push(built.model);
    const initialPrivate = new Map<string, Float32Array>();
    for (const t of built.tensors.filter((m) => !m.shared)) initialPrivate.set(t.name, t.variable.read().dataSync() as Float32Array);
    return { built, byName: new Map(built.tensors.map((t) => [t.name, t])), initialPrivate };
  }

  /**
   * The coordinator's manifest must agree with the local builder: same shared tensors, same sizes.
   * The builder, not the coordinator, decides what is private, so a coordinator cannot ask for a
   * private tensor by marking it shared.
   */
  private checkManifest(cached: CachedModel, manifest: WeightManifest, modelName: string): void {
    const remoteShared = manifest.tensors.filter((t) => t.shared);
    const localShared = cached.built.tensors.filter((t) => t.shared);
    if (remoteShared.length !== localShared.length) {
      throw new Error(`${modelName}: coordinator lists ${remoteShared.length} shared tensors, the local model has ${localShared.length}`);
    }
    for (const spec of remoteShared) {
      const local = cached.byName.get(spec.name);
      if (!local) throw new Error(`${modelName}: unknown tensor "${spec.name}" in the coordinator's manifest`);
      if (!local.shared) throw new Error(`${modelName}: tensor "${spec.name}" is private on this device and will not be shared`);
      if (variableSize(local.variable) !== tensorSize(spec)) {
        throw new Error(`${modelName}: tensor "${spec.name}" has ${variableSize(local.variable)} values locally, ${tensorSize(spec)} in the manifest`);
      }
    }
  }

  private async sharedDelta(cached: CachedModel, global: Weights): Promise<Float32Array> {
    const delta = new Float32Array(global.body.length);
    for (const { spec, offset, size } of sharedLayout(global.manifest)) {
      const now = await cached.byName.get(spec.name)!.variable.read().data();
      for (let i = 0; i < size; i++) delta[offset + i] = now[i]! - global.body[offset + i]!;
    }
    return delta;
  }

  private async savePrivate(cached: CachedModel, modelName: string): Promise<void> {
    for (const mapped of cached.built.tensors.filter((t) => !t.shared)) {
      const values = (await mapped.variable.read().data()) as Float32Array;
      await this.store.set(privateKey(modelName, mapped.name), new Float32Array(values));
    }
  }
}

export function createLayersTrainer(options: LayersTrainerOptions): LayersTrainer {
  return new LayersTrainer(options);
}

/** Where the trainer keeps a private tensor in the store (for inspection and tests). */
export { privateKey as privateTensorKey };
