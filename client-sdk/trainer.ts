import type { ModelSpec, TrainingConfig, Weights } from '@fedrec/protocol';

/** What a trainer is given for one fit or evaluate task. */
export interface TaskContext {
  roundId: number;
  modelVersion: number;
  config: TrainingConfig;
  modelSpec: ModelSpec;
  /**
   * The global shared weights for this round. Read-only: clients of one process that hold the same
   * version share one decoded copy (decoded-models.ts); copy what you change.
   */
  global: Weights;
}

export interface FitOutcome {
  /** New minus global shared weights, in manifest order. */
  delta: Float32Array;
  /** Examples trained on: the FedAvg weight. */
  numExamples: number;
  /** Per row of each rowwise tensor: how many examples touched it. */
  rowWeights?: Float32Array;
  metrics: Record<string, number>;
  /** Set by the device's DP step only (client-sdk/privacy): the clipping bit b − 1/2 (+ noise) to mask under secure aggregation. */
  clipBit?: number;
}

export interface EvaluateOutcome {
  numExamples: number;
  metrics: Record<string, number>;
}

/**
 * The seam between the SDK and the learning code. A trainer keeps the device's private
 * tensors (a user's own embedding) to itself: only the shared delta leaves through FitOutcome.
 */
export interface Trainer {
  fit(ctx: TaskContext): Promise<FitOutcome>;
  evaluate(ctx: TaskContext): Promise<EvaluateOutcome>;
  /** The engine it trains with ('js', 'tfjs', ...), when it has a choice: status and the hello report it. */
  readonly engine?: string | undefined;
}

/**
 * Why an item was recommended, computed on the device (client-sdk/trainers/explain.ts):
 * the liked item whose item embedding is closest (cosine) to it, or the popularity prior
 * when the device knows no liked item yet (cold start).
 */
export type RecommendationReason =
  /** `item` is the liked item's model row; `itemId` its app id (filled in by LiveRecsysTrainer through the catalogue). */
  { kind: 'similar-to-liked'; item: number; itemId?: string; similarity: number } | { kind: 'popular' };

/** One recommended item: the app's id, its model row, the model's score in (0, 1), and why. */
export interface Recommendation {
  /** The model row (dense item index). */
  item: number;
  score: number;
  /** The app's item id (through the catalogue; "n" for row n under the numeric default). */
  itemId: string;
  /** Why it is here, when the recommender explains itself ("because you liked X"). */
  reason?: RecommendationReason;
}

/**
 * A trainer that can also recommend on the device, from the global shared weights and the
 * private state it keeps. FederatedClient.recommend() feeds it the newest global model first.
 */
export interface Recommender {
  /** The model version the recommender last received, if any. */
  readonly modelVersion: number | undefined;
  /** The global model the recommender holds, if any (its spec names numItems). */
  readonly model?: { spec: ModelSpec; weights: Weights } | undefined;
  setGlobal(spec: ModelSpec, weights: Weights, modelVersion: number): void;
  /** The top k items this user has not interacted with, best first. */
  recommend(k: number): Promise<Recommendation[]>;
}

export function isRecommender(trainer: Trainer): trainer is Trainer & Recommender {
  const t = trainer as Partial<Recommender>;
  return typeof t.recommend === 'function' && typeof t.setGlobal === 'function';
}
