import type { TrainingConfig, WeightManifest, Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { AggregateSums } from '@fedrec/protocol';

/** A connected client as strategies see it. */
export interface ClientInfo {
  clientId: string;
  /** Epoch ms of the current connection. */
  connectedAt: number;
}

/** One selected client and the training config it gets this round. */
export interface ClientInstruction {
  clientId: string;
  config: TrainingConfig;
}

export interface ConfigureArgs {
  roundId: number;
  modelVersion: number;
  global: Weights;
  /** Everyone connected right now. */
  clients: readonly ClientInfo[];
  /** How many clients the coordinator's options ask for (already clamped to clients.length). */
  sampleSize: number;
  /** The coordinator's default training config. */
  config: TrainingConfig;
}

export interface EvaluateResult {
  clientId: string;
  numExamples: number;
  metrics: Record<string, number>;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * The strategy hook set, in Flower's shape. The round engine owns the sockets, deadlines and
 * failures; a strategy only decides who trains with what, and how sums become the next model.
 */
export interface Strategy {
  readonly name: string;
  /** Called once when there is no checkpoint to resume from; may replace the initial weights. */
  initialize?(initial: Weights): MaybePromise<Weights | undefined>;
  configureFit(args: ConfigureArgs): MaybePromise<ClientInstruction[]>;
  /** Turns the round's sums into the next global model. Never mutate `global`. */
  aggregateFit(roundId: number, global: Weights, sums: AggregateSums, failures: readonly Failure[]): MaybePromise<Weights>;
  configureEvaluate(args: ConfigureArgs): MaybePromise<ClientInstruction[]>;
  aggregateEvaluate(roundId: number, results: readonly EvaluateResult[], failures: readonly Failure[]): MaybePromise<Record<string, number>>;
  /**
   * The catalogue grew between rounds: the rowwise item tables of `from` now have more rows (`to`).
   * A stateful strategy grows its per-element state with zero rows (catalogue-growth.ts: growFlat).
   */
  growRows?(from: WeightManifest, to: WeightManifest): void;
}
