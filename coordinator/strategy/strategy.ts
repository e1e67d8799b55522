import type { TrainingConfig, WeightManifest, Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { AggregateSums } from '@fedrec/protocol';
import type { ClientUpdate } from './round-input.js';

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
 * A strategy's state that must survive a restart (FedAvgM's velocity, FedAdam's moments): slot name →
 * manifest tensor name → one value per element of that shared tensor. Plain named Float32Arrays per
 * manifest tensor, so a catalogue that appends rows to a rowwise tensor grows them the same way.
 */
export type StrategyState = Record<string, Record<string, Float32Array>>;

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
  /**
   * Present on buffering strategies (coordinate-wise median, trimmed mean, Krum), which need each
   * accepted update rather than sums: the plain collector then keeps every update of the round
   * (memory O(clients × model)) and the engine calls this instead of aggregateFit. Secure aggregation
   * cannot provide single updates, so the coordinator refuses such a strategy with it.
   */
  aggregateUpdates?(roundId: number, global: Weights, updates: readonly ClientUpdate[], failures: readonly Failure[]): MaybePromise<Weights>;
  /** The state to checkpoint (undefined when there is none yet). */
  saveState?(manifest: WeightManifest): StrategyState | undefined;
  /** Restores what saveState returned (from a checkpoint of the same layout). */
  loadState?(manifest: WeightManifest, state: StrategyState): void;
  configureEvaluate(args: ConfigureArgs): MaybePromise<ClientInstruction[]>;
  aggregateEvaluate(roundId: number, results: readonly EvaluateResult[], failures: readonly Failure[]): MaybePromise<Record<string, number>>;
  /**
   * The catalogue grew between rounds: the rowwise item tables of `from` now have more rows (`to`).
   * A stateful strategy grows its per-element state with zero rows (catalogue-growth.ts: growFlat).
   */
  growRows?(from: WeightManifest, to: WeightManifest): void;
}
