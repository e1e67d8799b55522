import type { EvaluateOutcome, FitOutcome, Recommendation, Recommender, TaskContext, Trainer } from '../trainer.js';
import { coldStartScores, personalWeight, popularityScores } from './cold-start.js';
import { explainRecommendations, itemEmbeddings } from './explain.js';
import { topK } from './top-k.js';
import { isPositive } from '../store/behaviour-event.js';
import type { BehaviourStore } from '../store/behaviour-store.js';
import { getFloat32 } from '../store/behaviour-store.js';
import { ProtocolError, splitShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { AUTO_ENGINE, chooseEngine, type EngineRequest } from '@fedrec/models/engine-choice.js';
import { defaultModelRegistry, type ModelRegistry } from '@fedrec/models/registry.js';
import { currentBackendInfo } from '../selected-backend.js';
import { RecsysTrainer, type PrivateStore } from './recsys-trainer.js';
import { holdOutLatest, userSeed, type UserData } from '@fedrec/recsys/split.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import type { RecommenderEngine } from '@fedrec/models/recommender-engine.js';
import { NUMERIC_CATALOGUE, type ItemCatalogue } from '../catalogue.js';

export interface LiveRecsysTrainerOptions {
  /** The device's store: behaviour events in, private embeddings kept. */
  store: BehaviourStore;
  /** Seeds this device's private embedding init (derive it from the client id). */
  user: number;
  seed?: number;
  /** Liked items needed before the device trains (one is held out for evaluation). */
  minLiked?: number;
  /** The model's engine: 'auto' (default; the shared rule, @fedrec/models/engine-choice.ts), or 'js' / 'tfjs'. */
  engine?: EngineRequest;
  /** Where models are looked up by name (default: the built-in registry). */
  models?: ModelRegistry;
  /** Local epochs of on-device personalization after each action. */
  personalizeEpochs?: number;
  /**
   * App item ids <-> rows. Default: the numeric catalogue ("n" is row n) until a FederatedClient hands
   * over the coordinator's catalogue (setCatalogue).
   */
  catalogue?: ItemCatalogue;
  /**
   * Per-row popularity (interaction counts) for cold start: ranks the catalogue while the user has
   * no liked item and is blended in while it has fewer than three (client-sdk/trainers/cold-start.ts).
   * Default: the catalogue's popularity (aggregated by the coordinator from committed rounds). Without
   * either, the global model's score for a neutral user stands in.
   */
  prior?: () => Float32Array | undefined;
  /**
   * The engine of on-device personalization and recommend() scoring: 'auto' (default) takes the shared
   * rule's real-time choice (engine-choice.ts: the plain-JS engine whenever the model has one), or a name.
   */
  personalizeEngine?: EngineRequest;
}

/**
 * On-device personalization, chosen for real time (see the README's cold-start section): each
 * time the liked set or the model changes, the personal embedding restarts from the neutral
 * (all-zero) user and takes small-batch SGD steps on the liked items (plus sampled negatives) against
 * the frozen global weights.
 */
export const PERSONALIZE_DEFAULTS = {
  /** Chosen on ML-100K held-out users (bench/cold-start.ts): 10 epochs at lr 0.5 gave HR@10 0.436 with 3 events, 30 at lr 2 0.489. */
  epochs: 30,
  batchSize: 4,
  learningRate: 2,
  negatives: 4,
  /** At most this many samples per personalization (fewer epochs for long histories): it runs on every action. */
  maxSamples: 20_000,
};

/** The items a user likes, by the latest event per item, with when they were last touched. */
export interface LikedItems {
  /** Model rows. */
  items: number[];
  /** The app ids of `items`, in the same order. */
  ids: string[];
  timestamps: number[];
  /** Every item the user did anything with (excluded from recommendations). */
  seen: Set<number>;
}

/** Federated embedding (trained in rounds, evaluated) and the on-device copy tuned on everything. */
const FEDERATED_PREFIX = 'fedrec:private:';
const PERSONAL_PREFIX = 'fedrec:personal:';

const NEUTRAL_PREFIX = 'fedrec:neutral:';

/**
 * Liked items by the time of their latest event, oldest first (file order on ties): the history a
 * sequence model (models/seq) trains on and takes its state from; NCF models ignore the order.
 */
export function timeOrdered(liked: Pick<LikedItems, 'items' | 'timestamps'>): Int32Array {
  const order = liked.items.map((_, k) => k).sort((x, y) => liked.timestamps[x]! - liked.timestamps[y]! || x - y);
  return Int32Array.from(order, (k) => liked.items[k]!);
}

function privateStore(store: BehaviourStore, prefix: string): PrivateStore {
  return { get: (k) => getFloat32(store, prefix + k), set: (k, v) => store.set(prefix + k, v) };
}

/** The neutral user: every private tensor all zeros (read only; nothing is kept). */
function neutralStore(weights: Weights): PrivateStore {
  const size = new Map(weights.manifest.tensors.filter((t) => !t.shared).map((t) => [t.name, t.shape.reduce((x, y) => x * y, 1)]));
  return { get: (k) => new Float32Array(size.get(k.slice(k.indexOf('/') + 1)) ?? 0), set: () => undefined };
}

/**
 * A RecsysTrainer over a live behaviour log: each task reads the device's events, holds the
 * latest liked item out (He et al. 2017) and trains the shared tensors plus the private user
 * embedding. Between rounds, personalize() tunes a second private embedding on every liked
 * item so recommendations follow the user's clicks at once; its shared delta is discarded.
 */
export class LiveRecsysTrainer implements Trainer, Recommender {
  private readonly o: Required<Omit<LiveRecsysTrainerOptions, 'models' | 'catalogue' | 'prior' | 'personalizeEngine'>> &
    Pick<LiveRecsysTrainerOptions, 'models' | 'prior' | 'personalizeEngine'>;
  private catalogue: ItemCatalogue;
  private global: { spec: ModelSpec; weights: Weights; version: number } | undefined;
  /** What the personal embedding was last tuned on: stale when events or the model moved on. */
  private personalizedFor: { events: number; version: number } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Catalogue-sized logits kept between recommend() calls: recomputed only when their inputs moved. */
  private cached: { personal?: { key: string; logits: Float32Array }; neutral?: { version: number; logits: Float32Array }; blend?: Float32Array } = {};

  constructor(options: LiveRecsysTrainerOptions) {
    const { catalogue, ...rest } = options;
    this.o = { seed: 1, minLiked: 2, engine: AUTO_ENGINE, personalizeEpochs: PERSONALIZE_DEFAULTS.epochs, ...rest };
    this.catalogue = catalogue ?? NUMERIC_CATALOGUE;
  }

  /** The catalogue ids are mapped through from now on (events for ids it did not know start to count). */
  setCatalogue(catalogue: ItemCatalogue): void {
    this.catalogue = catalogue;
    this.personalizedFor = undefined;
    this.cached = {};
  }

  /** Per-row popularity for cold-start ranking: the `prior` option, else the catalogue's, else none. */
  prior(): Float32Array | undefined {
    return this.o.prior?.() ?? this.catalogue.popularity();
  }

  /** The engine its round tasks run on, under the shared rule (engine-choice.ts) and the selected tfjs backend. */
  get engine(): string {
    return chooseEngine(this.o.engine, currentBackendInfo());
  }

  /** The global model recommendations use. */
  get model(): { spec: ModelSpec; weights: Weights } | undefined {
    return this.global;
  }

  get modelVersion(): number | undefined {
    return this.global?.version;
  }

  setGlobal(spec: ModelSpec, weights: Weights, modelVersion: number): void {
    this.global = { spec, weights, version: modelVersion };
  }

  /**
   * The user's items as model rows, through the catalogue. Events for ids the catalogue does not know
   * (yet), or beyond the model's `numItems`, stay in the store and count once the catalogue has them.
   */
  async liked(numItems: number = this.numItems() ?? Number.MAX_SAFE_INTEGER): Promise<LikedItems> {
    const latest = new Map<number, { positive: boolean; timestamp: number }>();
    for (const e of await this.o.store.list()) {
      const item = this.catalogue.rowOf(e.itemId, numItems);
      if (item === undefined) continue;
      latest.set(item, { positive: isPositive(e), timestamp: e.timestamp });
    }
    const liked = [...latest].filter(([, v]) => v.positive);
    const items = liked.map(([i]) => i);
    return { items, ids: items.map((i) => this.idOf(i)), timestamps: liked.map(([, v]) => v.timestamp), seen: new Set(latest.keys()) };
  }

  private idOf(row: number): string {
    return this.catalogue.idOf(row) ?? String(row);
  }

  private numItems(spec: ModelSpec | undefined = this.global?.spec): number | undefined {
    const n = Number(spec?.options['numItems']);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }

  fit(ctx: TaskContext): Promise<FitOutcome> {
    return this.serial(async () => {
      this.global = { spec: ctx.modelSpec, weights: ctx.global, version: ctx.modelVersion };
      const { data, sequence } = await this.heldOut(ctx);
      return this.trainerFor(data, FEDERATED_PREFIX, undefined, this.o.engine, sequence).fit(ctx);
    });
  }

  evaluate(ctx: TaskContext): Promise<EvaluateOutcome> {
    return this.serial(async () => {
      const { data, sequence } = await this.heldOut(ctx);
      return this.trainerFor(data, FEDERATED_PREFIX, undefined, this.o.engine, sequence).evaluate(ctx);
    });
  }

  /**
   * Tunes the personal embedding on all liked items under the current global model, from the
   * neutral user (PERSONALIZE_DEFAULTS); nothing is sent: the shared delta stays here and is dropped.
   */
  personalize(config: Partial<TaskContext['config']> = {}): Promise<boolean> {
    return this.serial(async () => {
      const g = this.global;
      if (!g) return false;
      const numItems = Number(g.spec.options['numItems']);
      const items = (await this.liked(numItems)).items;
      if (items.length === 0) return false;
      const events = await this.o.store.count();
      this.personalizedFor = { events, version: g.version };
      const engine = await this.realTimeEngineLoaded(g.spec);
      if (engine?.privateFromHistory) {
        // A sequence model's state is the recent history itself (scoreWith passes it): nothing to train.
        delete this.cached.personal;
        return true;
      }
      await this.resetPersonal(g.spec, g.weights);
      const data: UserData = { user: this.o.user, numItems, trainItems: Int32Array.from(items).sort(), testItem: -1, testNegatives: new Int32Array(0) };
      const d = PERSONALIZE_DEFAULTS;
      const ctx: TaskContext = {
        roundId: events, // seeds the sampled negatives: the same events give the same personal embedding
        modelVersion: 0,
        modelSpec: g.spec,
        global: g.weights,
        config: {
          localEpochs: Math.max(1, Math.min(this.o.personalizeEpochs, Math.floor(d.maxSamples / (items.length * (1 + d.negatives))))),
          batchSize: d.batchSize,
          learningRate: d.learningRate,
          optimizer: 'sgd',
          extra: { negatives: d.negatives },
          ...config,
        },
      };
      if (engine?.personalize) {
        // Only the personal rows move; the shared weights recommend() scores with stay as they are.
        const seed = userSeed(this.o.seed + 7919 * ctx.roundId, this.o.user);
        const plan = planLocalTraining(data.trainItems, numItems, {
          epochs: ctx.config.localEpochs,
          negatives: Number(ctx.config.extra['negatives'] ?? 4),
          seed,
        });
        const shared = splitShared(g.weights.manifest, g.weights.body);
        const priv = new Map<string, Float32Array>();
        for (const t of g.weights.manifest.tensors) if (!t.shared) priv.set(t.name, new Float32Array(t.shape.reduce((x, y) => x * y, 1)));
        const after = await engine.personalize(g.spec.options, shared, priv, plan, { learningRate: ctx.config.learningRate, batchSize: ctx.config.batchSize });
        for (const [name, value] of after) await this.o.store.set(`${PERSONAL_PREFIX}${g.spec.name}/${name}`, value);
      } else await this.trainerFor(data, PERSONAL_PREFIX, undefined, this.realTimeEngine(g.spec)).fit(ctx);
      delete this.cached.personal;
      return true;
    });
  }

  /**
   * Top-k unseen items scored on this device: global shared weights + the personal embedding,
   * blended with the popularity prior while few items are liked (cold-start.ts), each with its
   * reason (explain.ts). Re-personalizes first when events or the model changed since last time.
   */
  async recommend(k: number): Promise<Recommendation[]> {
    await this.refreshPersonal();
    return this.serial(async () => {
      const g = this.global;
      if (!g) return [];
      const numItems = Number(g.spec.options['numItems']);
      const { items, seen } = await this.liked(numItems);
      // Rows the catalogue copy does not name yet (it trails the model) are not recommended.
      for (let row = numItems - 1; row >= 0 && this.catalogue.idOf(row) === undefined; row--) seen.add(row);
      const ranked = await this.rankingScores(g, items.length);
      const top = topK(ranked.scores, k, seen);
      const reasons = explainRecommendations(itemEmbeddings(g.weights), top, items);
      return top.map((item, j) => {
        const reason = reasons[j]!;
        return {
          item,
          itemId: this.idOf(item),
          score: 1 / (1 + Math.exp(-ranked.personal[item]!)),
          reason: reason.kind === 'similar-to-liked' ? { ...reason, itemId: this.idOf(reason.item) } : reason,
        };
      });
    });
  }

  /**
   * The ranking score of every catalogue item (row order) that recommend() ranks by, before seen
   * items are dropped; undefined before the first global model. For benchmarks and evaluation.
   */
  async scores(): Promise<Float32Array | undefined> {
    await this.refreshPersonal();
    return this.serial(async () => {
      const g = this.global;
      if (!g) return undefined;
      return (await this.rankingScores(g, (await this.liked(this.numItems(g.spec))).items.length)).scores.slice();
    });
  }

  private async refreshPersonal(): Promise<void> {
    const current = this.global;
    const last = this.personalizedFor;
    if (current && (!last || last.version !== current.version || last.events !== (await this.o.store.count()))) await this.personalize();
  }

  /** Personal logits, the prior and their blend for a user with `liked` liked items (inside serial()). */
  private async rankingScores(g: NonNullable<LiveRecsysTrainer['global']>, liked: number): Promise<{ scores: Float32Array; personal: Float32Array }> {
    const numItems = Number(g.spec.options['numItems']);
    const key = `${g.version}:${this.personalizedFor?.events ?? -1}:${liked}`;
    if (this.cached.personal?.key !== key) {
      if (liked === 0) await this.resetPersonal(g.spec, g.weights); // nothing liked: the neutral user
      this.cached.personal = { key, logits: await this.scoreWith(g, PERSONAL_PREFIX) };
    }
    const personal = this.cached.personal.logits;
    if (personalWeight(liked) >= 1) return { scores: personal, personal };
    const counts = this.prior();
    let prior: Float32Array;
    if (counts) prior = popularityScores(counts, numItems);
    else {
      if (this.cached.neutral?.version !== g.version) this.cached.neutral = { version: g.version, logits: await this.scoreWith(g, NEUTRAL_PREFIX) };
      prior = this.cached.neutral.logits;
    }
    if (this.cached.blend?.length !== numItems) this.cached.blend = new Float32Array(numItems);
    return { scores: coldStartScores(prior, personal, liked, this.cached.blend), personal };
  }

  private async scoreWith(g: NonNullable<LiveRecsysTrainer['global']>, prefix: string): Promise<Float32Array> {
    // The neutral user has no history; the personal one scores from its liked items in time order (a sequence model's state).
    const sequence = prefix === NEUTRAL_PREFIX ? new Int32Array(0) : timeOrdered(await this.liked(this.numItems(g.spec)));
    const data: UserData = {
      user: this.o.user,
      numItems: Number(g.spec.options['numItems']),
      trainItems: new Int32Array(0),
      testItem: -1,
      testNegatives: new Int32Array(0),
    };
    const trainer = this.trainerFor(data, prefix, prefix === NEUTRAL_PREFIX ? neutralStore(g.weights) : undefined, this.realTimeEngine(g.spec), sequence);
    trainer.setGlobal(g.spec, g.weights);
    return trainer.scoreAll();
  }

  /** Sets the personal embedding to the neutral user: all zeros, the shape of the model's private tensors. */
  private async resetPersonal(spec: ModelSpec, weights: Weights): Promise<void> {
    for (const t of weights.manifest.tensors) {
      if (t.shared) continue;
      await this.o.store.set(`${PERSONAL_PREFIX}${spec.name}/${t.name}`, new Float32Array(t.shape.reduce((x, y) => x * y, 1)));
    }
  }

  /** Floats of private embedding kept on this device (for the "stays here" panel). */
  async privateFloats(): Promise<number> {
    let n = 0;
    for (const key of ['user_gmf', 'user_mlp']) {
      for (const prefix of [FEDERATED_PREFIX, PERSONAL_PREFIX])
        n += (await getFloat32(this.o.store, `${prefix}${this.global?.spec.name ?? 'neumf'}/${key}`))?.length ?? 0;
    }
    return n;
  }

  /** The round's split: the latest liked item held out, and the liked items before it in time order (a sequence model's history). */
  private async heldOut(ctx: TaskContext): Promise<{ data: UserData; sequence: Int32Array }> {
    const liked = await this.liked(this.numItems(ctx.modelSpec));
    const { items, timestamps } = liked;
    if (items.length < this.o.minLiked) {
      throw new ProtocolError('TRAINING_FAILED', `this device has ${items.length} liked item(s); it takes part once it has ${this.o.minLiked}`);
    }
    const numItems = Number(ctx.modelSpec.options['numItems']);
    const data = holdOutLatest(this.o.user, items, timestamps, numItems, { negatives: Math.min(99, numItems - items.length), seed: this.o.seed });
    const ordered = Array.from(timeOrdered(liked));
    ordered.splice(ordered.lastIndexOf(data.testItem), 1);
    return { data, sequence: Int32Array.from(ordered) };
  }

  /** The real-time engine under the shared rule (engine-choice.ts, workload 'real-time'). */
  private realTimeEngine(spec: ModelSpec): string {
    const registry = this.o.models ?? defaultModelRegistry;
    const engines = registry.names().includes(spec.name) ? Object.keys(registry.get(spec.name).engines) : undefined;
    return chooseEngine(this.o.personalizeEngine, currentBackendInfo(), engines, 'real-time');
  }

  /** The real-time engine itself when it is a name the registry knows (else undefined: go through RecsysTrainer). */
  private async realTimeEngineLoaded(spec: ModelSpec): Promise<RecommenderEngine | undefined> {
    const registry = this.o.models ?? defaultModelRegistry;
    const loader = registry.names().includes(spec.name) ? registry.get(spec.name).engines[this.realTimeEngine(spec)] : undefined;
    return loader?.kind === 'recommender' ? loader.load() : undefined;
  }

  private trainerFor(data: UserData, prefix: string, store?: PrivateStore, engine = this.o.engine, sequence?: Int32Array): RecsysTrainer {
    return new RecsysTrainer({
      data,
      ...(sequence ? { sequence } : {}),
      store: store ?? privateStore(this.o.store, prefix),
      engine,
      seed: this.o.seed,
      ...(this.o.models ? { models: this.o.models } : {}),
    });
  }

  /** One at a time: a round's fit and a personalization both write private tensors. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
