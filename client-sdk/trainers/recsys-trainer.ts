import type { EvaluateOutcome, FitOutcome, Recommendation, TaskContext, Trainer } from '../trainer.js';
import { sameSharedLayout, splitShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { flattenLocalResult } from '@fedrec/models/ncf/engine/flat.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import type { RecommenderEngine } from '@fedrec/models/recommender-engine.js';
import { AUTO_ENGINE, chooseEngine, type EngineRequest } from '@fedrec/models/engine-choice.js';
import { currentBackendInfo } from '../selected-backend.js';
import { defaultModelRegistry, type EngineLoader, type ModelRegistry } from '@fedrec/models/registry.js';
import { heldOutMetrics } from '@fedrec/recsys/metrics.js';
import { negativeExclusions, parseNegativeExclusion, userSeed, type UserData } from '@fedrec/recsys/split.js';
import { fitIsFinite } from './finite-fit.js';
import { parsePfedrecFineTune, PfedrecState, type Personalization } from './pfedrec.js';

/** Where a device keeps its private tensors (the SDK's behaviour store satisfies it). */
export interface PrivateStore {
  get(key: string): Float32Array | undefined | Promise<Float32Array | undefined>;
  set(key: string, value: Float32Array): void | Promise<void>;
}

/** An in-memory PrivateStore, for tests and simulations. */
export function memoryPrivateStore(): PrivateStore & { entries: Map<string, Float32Array> } {
  const entries = new Map<string, Float32Array>();
  return { entries, get: (k) => entries.get(k), set: (k, v) => void entries.set(k, v) };
}

export interface RecsysTrainerOptions {
  /** Exactly one user's data: its train items, held-out item and evaluation negatives. */
  data: UserData;
  /** Persists the private user embedding across rounds and restarts; in memory by default. */
  store?: PrivateStore;
  /**
   * The model's engine: 'auto' (default: the shared rule in @fedrec/models/engine-choice.ts, tfjs on a
   * GPU backend, else the plain-JS engine), or a registry name such as 'js' or 'tfjs'.
   */
  engine?: EngineRequest;
  /** Where models are looked up by name (default: the built-in registry); each needs a recommender engine. */
  models?: ModelRegistry;
  /** Seeds the private init and the per-round negative sampling. */
  seed?: number;
  /**
   * The user's training interactions in time order (recsys/data/sequences.ts). Sequence models (an
   * engine with planFit) train on its sliding windows and hold its tail as their state; default: trainItems.
   */
  sequence?: Int32Array;
  /** 'none' (default) or 'pfedrec': PFedRec's dual personalization (./pfedrec.ts). */
  personalization?: Personalization;
}

/**
 * The device side of federated NCF: trains the shared item tables and layers on one user's
 * data, keeps that user's embedding private (only the shared delta leaves, with per-row weights).
 */
export class RecsysTrainer implements Trainer {
  private readonly data: UserData;
  private readonly store: PrivateStore;
  private readonly engineRequest: EngineRequest;
  private lastEngine: string | undefined;
  private readonly models: ModelRegistry;
  private readonly seed: number;
  private lastGlobal?: { spec: ModelSpec; weights: Weights };
  private readonly history: Int32Array;
  /** The history without the validation item: what a sequence model trains on and ranks that item from. */
  private readonly trainHistory: Int32Array;
  private readonly personalization: Personalization;

  constructor(options: RecsysTrainerOptions) {
    this.data = options.data;
    this.store = options.store ?? memoryPrivateStore();
    this.engineRequest = options.engine ?? AUTO_ENGINE;
    this.models = options.models ?? defaultModelRegistry;
    this.seed = options.seed ?? 1;
    this.history = options.sequence ?? options.data.trainItems;
    // A time-ordered sequence (recsys/data/sequences.ts) still holds the validation item; trainItems do not.
    const v = options.data.validationItem === undefined ? -1 : this.history.lastIndexOf(options.data.validationItem);
    this.trainHistory = v < 0 ? this.history : Int32Array.from([...this.history.subarray(0, v), ...this.history.subarray(v + 1)]);
    this.personalization = options.personalization ?? 'none';
  }

  async fit(ctx: TaskContext): Promise<FitOutcome> {
    const { optimizer } = ctx.config;
    if (optimizer !== 'sgd' && optimizer !== 'adam') throw new Error(`RecsysTrainer supports optimizers "sgd" and "adam", not "${optimizer}"`);
    const engine = await this.engineFor(ctx);
    const { options } = ctx.modelSpec;
    const pfedrec = this.pfedrecFor(ctx.modelSpec);
    const global = splitShared(ctx.global.manifest, ctx.global.body);
    const shared = pfedrec ? await pfedrec.forFit(engine, options, ctx.global.manifest, global) : global;
    const priv = await this.loadPrivate(engine, ctx.modelSpec, this.trainHistory);
    const negatives = Number(ctx.config.extra['negatives'] ?? 4);
    // Which held-out items are kept out of the negatives is round config (recsys/split.ts NegativeExclusion):
    // under 'validation' or 'none' this round never reads the test item. An unknown mode fails the round.
    const exclusion = parseNegativeExclusion(ctx.config.extra['negativeExclusion'] ?? 'held-out');
    const planOptions = {
      epochs: ctx.config.localEpochs,
      negatives,
      seed: userSeed(this.seed + 7919 * ctx.roundId, this.data.user),
      // The device's own held-out interactions are not negatives (as in the centralized baselines).
      heldOut: negativeExclusions(this.data, exclusion),
    };
    const plan = engine.planFit
      ? engine.planFit(options, this.trainHistory, planOptions)
      : planLocalTraining(this.data.trainItems, engine.numItems(options), planOptions);
    // The round config carries this round's lr (the coordinator's schedule) and FedProx's μ.
    const mu = ctx.config.proximalMu ?? 0;
    const result = await engine.fit(options, shared, priv, plan, {
      learningRate: ctx.config.learningRate,
      batchSize: ctx.config.batchSize,
      optimizer,
      ...(mu > 0 ? { proximalMu: mu } : {}),
    });
    // A diverged fit fails the round and changes nothing kept on the device (finite-fit.ts says why).
    if (!fitIsFinite(result)) throw new Error('local fit diverged (non-finite weights); the device keeps its previous state');
    if (pfedrec) {
      const fineTune = parsePfedrecFineTune(ctx.config.extra['pfedrecFineTune'] ?? 'touched');
      const positives = fineTune === 'positives' ? new Set(this.data.trainItems) : undefined;
      await pfedrec.afterFit(engine, options, ctx.global.manifest, shared, result, positives);
    }
    await this.savePrivate(ctx.modelSpec.name, result.privateAfter);
    const { delta, rowWeights } = flattenLocalResult(ctx.global.manifest, result);
    return { delta, numExamples: result.numExamples, rowWeights, metrics: { loss: result.loss } };
  }

  async evaluate(ctx: TaskContext): Promise<EvaluateOutcome> {
    const engine = await this.engineFor(ctx);
    // Each held-out item is ranked from the history before it: the validation item from trainHistory, the test item from all of it.
    const rank = async (item: number, negatives: Int32Array, history: Int32Array) => {
      const candidates = new Int32Array(1 + negatives.length);
      candidates[0] = item;
      candidates.set(negatives, 1);
      return heldOutMetrics(await this.score(engine, ctx.modelSpec, ctx.global, candidates, history), 10);
    };
    const metrics: Record<string, number> = {};
    // With a validation item (PFedRec's protocol), its metrics are reported apart (val_*): runs choose
    // their best round on those, and the test item's metrics only report the round chosen.
    const { validationItem, validationNegatives } = this.data;
    if (validationItem !== undefined && validationNegatives) {
      const v = await rank(validationItem, validationNegatives, this.trainHistory);
      Object.assign(metrics, { val_hr10: v.hr, val_ndcg10: v.ndcg, val_loss: v.loss });
    }
    const m = await rank(this.data.testItem, this.data.testNegatives, this.history);
    Object.assign(metrics, { hr10: m.hr, ndcg10: m.ndcg, loss: m.loss });
    return { numExamples: 1, metrics };
  }

  /** Top-k items by score under the latest global weights and this user's private rows; seen items excluded by default. */
  async recommend(k: number, exclude?: Iterable<number>): Promise<Recommendation[]> {
    if (!this.lastGlobal) throw new Error('no global model yet: recommend() needs a fit or evaluate task first (or setGlobal)');
    const { spec, weights } = this.lastGlobal;
    const engine = await this.engineFor({ modelSpec: spec, global: weights });
    const held = this.data.validationItem === undefined ? [this.data.testItem] : [this.data.testItem, this.data.validationItem];
    const skip = new Set<number>(exclude ?? [...this.data.trainItems, ...held]);
    const items = Int32Array.from({ length: engine.numItems(spec.options) }, (_, i) => i).filter((i) => !skip.has(i));
    const logits = await this.score(engine, spec, weights, items);
    const order = Array.from(items.keys()).sort((x, y) => logits[y]! - logits[x]!);
    return order.slice(0, k).map((j) => ({ item: items[j]!, itemId: String(items[j]!), score: 1 / (1 + Math.exp(-logits[j]!)) }));
  }

  /**
   * Logits of every catalogue item, in row order, under the latest global weights and this user's
   * private rows: the engine's dense scoreAll when it has one, else score() over every item.
   */
  async scoreAll(): Promise<Float32Array> {
    if (!this.lastGlobal) throw new Error('no global model yet: scoreAll() needs a fit or evaluate task first (or setGlobal)');
    const { spec, weights } = this.lastGlobal;
    const engine = await this.engineFor({ modelSpec: spec, global: weights });
    const shared = await this.scoringShared(engine, spec, weights);
    const priv = await this.loadPrivate(engine, spec);
    if (engine.scoreAll) return engine.scoreAll(spec.options, shared, priv);
    return engine.score(
      spec.options,
      shared,
      priv,
      Int32Array.from({ length: engine.numItems(spec.options) }, (_, i) => i),
    );
  }

  /** Remembers a global model for recommend() without a task. */
  setGlobal(spec: ModelSpec, weights: Weights): void {
    this.check({ modelSpec: spec, global: weights });
  }

  /**
   * The engine this trainer runs (or, before its first task, would run for a model with both
   * engines) under the shared rule and the tfjs backend the SDK selected.
   */
  get engine(): string {
    return this.lastEngine ?? chooseEngine(this.engineRequest, currentBackendInfo());
  }

  /** The model must be registered with a recommender engine and the weights must be its shared layout. */
  private check(ctx: Pick<TaskContext, 'modelSpec' | 'global'>): Extract<EngineLoader, { kind: 'recommender' }> {
    const { name, options } = ctx.modelSpec;
    const engineName = chooseEngine(this.engineRequest, currentBackendInfo(), Object.keys(this.models.get(name).engines));
    const loader = this.models.engine(name, engineName);
    if (loader.kind !== 'recommender') throw new Error(`RecsysTrainer trains models with a recommender engine; "${name}" has a ${loader.kind} engine`);
    if (!sameSharedLayout(this.models.definition(name).manifest(options), ctx.global.manifest))
      throw new Error(`global weights do not match model ${name} with these options`);
    this.lastGlobal = { spec: ctx.modelSpec, weights: ctx.global };
    this.lastEngine = engineName;
    return loader;
  }

  private engineFor(ctx: Pick<TaskContext, 'modelSpec' | 'global'>): Promise<RecommenderEngine> {
    return this.check(ctx).load();
  }

  private async score(engine: RecommenderEngine, spec: ModelSpec, global: Weights, items: Int32Array, history = this.history): Promise<Float32Array> {
    const shared = await this.scoringShared(engine, spec, global);
    return engine.score(spec.options, shared, await this.loadPrivate(engine, spec, history), items);
  }

  /** The shared tensors this device scores with: the global ones, or its personalized view of them. */
  private async scoringShared(engine: RecommenderEngine, spec: ModelSpec, global: Weights): Promise<Map<string, Float32Array>> {
    const shared = splitShared(global.manifest, global.body);
    const pfedrec = this.pfedrecFor(spec);
    return pfedrec ? pfedrec.forScoring(engine, spec.options, global.manifest, shared) : shared;
  }

  private pfedrecFor(spec: ModelSpec): PfedrecState | undefined {
    return this.personalization === 'pfedrec' ? new PfedrecState(this.store, spec.name) : undefined;
  }

  private async loadPrivate(engine: RecommenderEngine, spec: ModelSpec, history = this.history): Promise<Map<string, Float32Array>> {
    const fresh = engine.initialPrivate(spec.options, userSeed(this.seed + 1, this.data.user));
    const out = new Map<string, Float32Array>();
    for (const [name, init] of fresh) {
      const stored = await this.store.get(`${spec.name}/${name}`);
      // A stored row of another width belongs to an older model shape: start afresh.
      out.set(name, stored && stored.length === init.length ? stored.slice() : init);
    }
    // State that is a function of the history (a sequence model's recent items) follows the history.
    for (const [name, value] of engine.privateFromHistory?.(spec.options, history) ?? []) out.set(name, value);
    return out;
  }

  private async savePrivate(model: string, tensors: Map<string, Float32Array>): Promise<void> {
    for (const [name, value] of tensors) await this.store.set(`${model}/${name}`, value);
  }
}
