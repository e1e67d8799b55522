import type { EvaluateOutcome, FitOutcome, Recommendation, Recommender, TaskContext, Trainer } from '../trainer.js';
import { isPositive } from '../store/behaviour-event.js';
import type { BehaviourStore } from '../store/behaviour-store.js';
import { getFloat32 } from '../store/behaviour-store.js';
import { ProtocolError, type ModelSpec, type Weights } from '@fedrec/protocol';
import { AUTO_ENGINE, chooseEngine, type EngineRequest } from '@fedrec/models/engine-choice.js';
import type { ModelRegistry } from '@fedrec/models/registry.js';
import { currentBackendInfo } from '../selected-backend.js';
import { RecsysTrainer, type PrivateStore } from './recsys-trainer.js';
import { holdOutLatest, type UserData } from '@fedrec/recsys/split.js';

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
}

/** The items a user likes, by the latest event per item, with when they were last touched. */
export interface LikedItems {
  items: number[];
  timestamps: number[];
  /** Every item the user did anything with (excluded from recommendations). */
  seen: Set<number>;
}

/** Federated embedding (trained in rounds, evaluated) and the on-device copy tuned on everything. */
const FEDERATED_PREFIX = 'fedrec:private:';
const PERSONAL_PREFIX = 'fedrec:personal:';

function privateStore(store: BehaviourStore, prefix: string): PrivateStore {
  return { get: (k) => getFloat32(store, prefix + k), set: (k, v) => store.set(prefix + k, v) };
}

/**
 * A RecsysTrainer over a live behaviour log: each task reads the device's events, holds the
 * latest liked item out (He et al. 2017) and trains the shared tensors plus the private user
 * embedding. Between rounds, personalize() tunes a second private embedding on every liked
 * item so recommendations follow the user's clicks at once; its shared delta is discarded.
 */
export class LiveRecsysTrainer implements Trainer, Recommender {
  private readonly o: Required<Omit<LiveRecsysTrainerOptions, 'models'>> & Pick<LiveRecsysTrainerOptions, 'models'>;
  private global: { spec: ModelSpec; weights: Weights; version: number } | undefined;
  /** What the personal embedding was last tuned on: stale when events or the model moved on. */
  private personalizedFor: { events: number; version: number } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: LiveRecsysTrainerOptions) {
    this.o = { seed: 1, minLiked: 2, engine: AUTO_ENGINE, personalizeEpochs: 5, ...options };
  }

  /** The engine its tasks run on, under the shared rule and the selected tfjs backend. */
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

  async liked(): Promise<LikedItems> {
    const latest = new Map<number, { positive: boolean; timestamp: number }>();
    for (const e of await this.o.store.list()) {
      const item = Number(e.itemId);
      if (!Number.isInteger(item) || item < 0) continue;
      latest.set(item, { positive: isPositive(e), timestamp: e.timestamp });
    }
    const liked = [...latest].filter(([, v]) => v.positive);
    return { items: liked.map(([i]) => i), timestamps: liked.map(([, v]) => v.timestamp), seen: new Set(latest.keys()) };
  }

  fit(ctx: TaskContext): Promise<FitOutcome> {
    return this.serial(async () => {
      this.global = { spec: ctx.modelSpec, weights: ctx.global, version: ctx.modelVersion };
      return this.trainerFor(await this.heldOut(ctx), FEDERATED_PREFIX).fit(ctx);
    });
  }

  evaluate(ctx: TaskContext): Promise<EvaluateOutcome> {
    return this.serial(async () => this.trainerFor(await this.heldOut(ctx), FEDERATED_PREFIX).evaluate(ctx));
  }

  /** Tunes the personal embedding on all liked items under the current global model; nothing is sent. */
  personalize(config: Partial<TaskContext['config']> = {}): Promise<boolean> {
    return this.serial(async () => {
      const g = this.global;
      const { items } = await this.liked();
      if (!g || items.length === 0) return false;
      this.personalizedFor = { events: await this.o.store.count(), version: g.version };
      const numItems = Number(g.spec.options['numItems']);
      const data: UserData = { user: this.o.user, numItems, trainItems: Int32Array.from(items).sort(), testItem: -1, testNegatives: new Int32Array(0) };
      const ctx: TaskContext = {
        roundId: Date.now() % 1_000_000,
        modelVersion: 0,
        modelSpec: g.spec,
        global: g.weights,
        config: { localEpochs: this.o.personalizeEpochs, batchSize: 32, learningRate: 0.05, optimizer: 'sgd', extra: { negatives: 4 }, ...config },
      };
      await this.trainerFor(data, PERSONAL_PREFIX).fit(ctx); // the shared delta stays here and is dropped
      return true;
    });
  }

  /** Top-k unseen items scored on this device: global shared weights + the personal embedding. */
  async recommend(k: number): Promise<Recommendation[]> {
    const current = this.global;
    const last = this.personalizedFor;
    if (current && (!last || last.version !== current.version || last.events !== (await this.o.store.count()))) await this.personalize();
    return this.serial(async () => {
      const g = this.global;
      if (!g) return [];
      const { seen } = await this.liked();
      const numItems = Number(g.spec.options['numItems']);
      const data: UserData = { user: this.o.user, numItems, trainItems: new Int32Array(0), testItem: -1, testNegatives: new Int32Array(0) };
      const trainer = this.trainerFor(data, PERSONAL_PREFIX);
      trainer.setGlobal(g.spec, g.weights);
      return trainer.recommend(k, seen);
    });
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

  private async heldOut(ctx: TaskContext): Promise<UserData> {
    const { items, timestamps } = await this.liked();
    if (items.length < this.o.minLiked) {
      throw new ProtocolError('TRAINING_FAILED', `this device has ${items.length} liked item(s); it takes part once it has ${this.o.minLiked}`);
    }
    const numItems = Number(ctx.modelSpec.options['numItems']);
    return holdOutLatest(this.o.user, items, timestamps, numItems, { negatives: Math.min(99, numItems - items.length), seed: this.o.seed });
  }

  private trainerFor(data: UserData, prefix: string): RecsysTrainer {
    return new RecsysTrainer({
      data,
      store: privateStore(this.o.store, prefix),
      engine: this.o.engine,
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
