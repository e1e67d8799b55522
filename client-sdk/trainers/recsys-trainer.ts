import type { EvaluateOutcome, FitOutcome, TaskContext, Trainer } from '../trainer.js';
import { ncfArch, ncfManifest, type NcfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate } from '@fedrec/models/ncf/init.js';
import { sameSharedLayout, splitShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { flattenLocalResult } from '@fedrec/models/ncf/engine/flat.js';
import { fitLocalJs, type LocalFitResult } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { scoreItemsJs } from '@fedrec/models/ncf/engine/score.js';
import { heldOutMetrics } from '@fedrec/recsys/metrics.js';
import { userSeed, type UserData } from '@fedrec/recsys/split.js';
import { fitLocalTf, scoreTf } from '@fedrec/models/ncf/tfjs/local-fit.js';

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
  /** 'tfjs' (default; the device trainer on the active tfjs backend) or 'js' (the plain-JS fast path). */
  engine?: 'tfjs' | 'js';
  /** Seeds the private init and the per-round negative sampling. */
  seed?: number;
}

export interface Recommendation {
  item: number;
  score: number;
}

const KINDS: readonly NcfKind[] = ['mf', 'gmf', 'mlp', 'neumf'];

/**
 * The device side of federated NCF: trains the shared item tables and layers on one user's
 * data, keeps that user's embedding private (only the shared delta leaves, with per-row weights).
 */
export class RecsysTrainer implements Trainer {
  private readonly data: UserData;
  private readonly store: PrivateStore;
  private readonly engine: 'tfjs' | 'js';
  private readonly seed: number;
  private lastGlobal?: { spec: ModelSpec; weights: Weights };

  constructor(options: RecsysTrainerOptions) {
    this.data = options.data;
    this.store = options.store ?? memoryPrivateStore();
    this.engine = options.engine ?? 'tfjs';
    this.seed = options.seed ?? 1;
  }

  async fit(ctx: TaskContext): Promise<FitOutcome> {
    const a = this.archFor(ctx);
    if (ctx.config.optimizer !== 'sgd') throw new Error(`RecsysTrainer supports optimizer "sgd", not "${ctx.config.optimizer}"`);
    const shared = splitShared(ctx.global.manifest, ctx.global.body);
    const priv = await this.loadPrivate(ctx.modelSpec.name, a);
    const negatives = Number(ctx.config.extra['negatives'] ?? 4);
    const plan = planLocalTraining(this.data.trainItems, a.numItems, {
      epochs: ctx.config.localEpochs,
      negatives,
      seed: userSeed(this.seed + 7919 * ctx.roundId, this.data.user),
    });
    const options = { learningRate: ctx.config.learningRate, batchSize: ctx.config.batchSize };
    const result: LocalFitResult = this.engine === 'js' ? fitLocalJs(a, shared, priv, plan, options) : await fitLocalTf(a, shared, priv, plan, options);
    await this.savePrivate(ctx.modelSpec.name, result.privateAfter);
    const { delta, rowWeights } = flattenLocalResult(ctx.global.manifest, result);
    return { delta, numExamples: result.numExamples, rowWeights, metrics: { loss: result.loss } };
  }

  async evaluate(ctx: TaskContext): Promise<EvaluateOutcome> {
    const a = this.archFor(ctx);
    const candidates = new Int32Array(1 + this.data.testNegatives.length);
    candidates[0] = this.data.testItem;
    candidates.set(this.data.testNegatives, 1);
    const logits = await this.score(a, ctx.global, await this.loadPrivate(ctx.modelSpec.name, a), candidates);
    const m = heldOutMetrics(logits, 10);
    return { numExamples: 1, metrics: { hr10: m.hr, ndcg10: m.ndcg, loss: m.loss } };
  }

  /** Top-k items by score under the latest global weights and this user's private rows; seen items excluded by default. */
  async recommend(k: number, exclude?: Iterable<number>): Promise<Recommendation[]> {
    if (!this.lastGlobal) throw new Error('no global model yet: recommend() needs a fit or evaluate task first (or setGlobal)');
    const { spec, weights } = this.lastGlobal;
    const a = ncfArch(spec.name as NcfKind, spec.options);
    const skip = new Set<number>(exclude ?? [...this.data.trainItems, this.data.testItem]);
    const items = Int32Array.from({ length: a.numItems }, (_, i) => i).filter((i) => !skip.has(i));
    const logits = await this.score(a, weights, await this.loadPrivate(spec.name, a), items);
    const order = Array.from(items.keys()).sort((x, y) => logits[y]! - logits[x]!);
    return order.slice(0, k).map((j) => ({ item: items[j]!, score: 1 / (1 + Math.exp(-logits[j]!)) }));
  }

  /** Remembers a global model for recommend() without a task. */
  setGlobal(spec: ModelSpec, weights: Weights): void {
    this.archFor({ modelSpec: spec, global: weights });
  }

  private archFor(ctx: Pick<TaskContext, 'modelSpec' | 'global'>): NcfArch {
    const kind = ctx.modelSpec.name as NcfKind;
    if (!KINDS.includes(kind)) throw new Error(`RecsysTrainer trains ${KINDS.join('/')}, not "${ctx.modelSpec.name}"`);
    const a = ncfArch(kind, ctx.modelSpec.options);
    if (!sameSharedLayout(ncfManifest(a), ctx.global.manifest)) throw new Error(`global weights do not match model ${kind} with these options`);
    this.lastGlobal = { spec: ctx.modelSpec, weights: ctx.global };
    return a;
  }

  private async score(a: NcfArch, global: Weights, priv: Map<string, Float32Array>, items: Int32Array): Promise<Float32Array> {
    const shared = splitShared(global.manifest, global.body);
    return this.engine === 'js' ? scoreItemsJs(a, shared, priv, items) : scoreTf(a, shared, priv, items);
  }

  private async loadPrivate(model: string, a: NcfArch): Promise<Map<string, Float32Array>> {
    const fresh = ncfInitialPrivate(a, userSeed(this.seed + 1, this.data.user));
    const out = new Map<string, Float32Array>();
    for (const [name, init] of fresh) {
      const stored = await this.store.get(`${model}/${name}`);
      // A stored row of another width belongs to an older model shape: start afresh.
      out.set(name, stored && stored.length === init.length ? stored.slice() : init);
    }
    return out;
  }

  private async savePrivate(model: string, tensors: Map<string, Float32Array>): Promise<void> {
    for (const [name, value] of tensors) await this.store.set(`${model}/${name}`, value);
  }
}
