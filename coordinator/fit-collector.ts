import type { Compression, EnvelopeOpener, KeyPair, ModelSpec, TrainingConfig, Weights } from '@fedrec/protocol';
import type { Failure } from './failure.js';
import type { Logger } from './logger.js';
import type { TaskWire } from './task.js';
import type { ClientSocket } from './socket-types.js';
import type { AggregateSums } from '@fedrec/protocol';
import type { ClientUpdate, RoundInput } from './strategy/round-input.js';
import type { RoundPrivacy } from './privacy/round-privacy.js';
import type { EvaluationOpener } from './evaluation-opening.js';

/** One selected client's fit task for this round. */
export interface FitAssignment {
  clientId: string;
  taskId: string;
  socket: ClientSocket;
  config: TrainingConfig;
}

export interface UpdateLimits {
  /** Largest sealed update (ciphertext bytes) accepted. */
  maxUpdateBytes: number;
  /** Largest numExamples a single client may claim. */
  maxExamplesPerUpdate: number;
  /** Most metric names one update may carry (TOO_LARGE beyond); unset = no limit. */
  maxMetricKeys?: number;
  /** The run's compression: an update encoded otherwise is refused (WRONG_ENCODING); unset = not checked. */
  compression?: Compression;
}

/** What any phase that sends tasks to chosen clients works from: the model, who, and until when. */
export interface TaskPhaseContext {
  roundId: number;
  modelVersion: number;
  global: Weights;
  modelSpec: ModelSpec;
  /** Epoch ms after which no result is waited for. */
  deadline: number;
  assignments: readonly FitAssignment[];
  /** Aborted when the coordinator stops: phases must then return promptly. */
  signal: AbortSignal;
  /** What tasks say besides the model version (compression, catalogue version); task.ts. */
  wire?: TaskWire;
}

/** Everything a collector needs to run the "collect fit results" phase of one round. */
export interface FitRoundContext extends TaskPhaseContext {
  keyPair: KeyPair;
  /** Opens sealed updates with the coordinator key, caching each client session's key agreement. */
  opener: EnvelopeOpener;
  limits: UpdateLimits;
  logger: Logger;
  /**
   * Where a collector that sees single updates (plain) puts each accepted one: the norm bound and
   * weight cap, then the sums and, for buffering strategies, the buffer. The engine passes one per
   * round (its policy's history lives across rounds); without it the plain collector adds updates to
   * plain sums as they are. A secure-aggregation collector never sees single updates and ignores it.
   */
  roundInput?: RoundInput;
}

/** What a round's collect phase hands to the strategy: sums, never individual deltas. */
export interface FitCollection {
  sums: AggregateSums;
  /** Clients whose results are inside the sums. */
  accepted: string[];
  failures: Failure[];
  /** Example-weighted mean of client-reported training metrics, when the collector can see them. */
  metrics: Record<string, number>;
  /** Each accepted update, when the round's strategy buffers them (plain mode only). */
  updates?: ClientUpdate[];
  /** Updates the norm bound scaled down, and updates whose weight was capped (plain mode). */
  clipped?: number;
  weightCapped?: number;
  /** Set when the collector itself gave the round up (e.g. secure aggregation fell below its threshold): the engine abandons with this reason. */
  abandonReason?: string;
  /** Under DP (coordinator/privacy/): whether a noisy sum was released, and epsilon after the round. */
  privacy?: RoundPrivacy;
  /** Adaptive DP clipping under secure aggregation: Σ over contributors of their masked clipping bits b − 1/2 (+ noise). */
  clipBitSum?: number;
}

/**
 * The seam for the "collect fit results" phase. The round engine selects clients, then hands
 * the collector the assignments and a deadline; the collector dispatches `round:fit`, gathers
 * replies and failures, and returns only Σ weight·Δ, Σ n_i and Σ w_ir.
 * PlainFitCollector opens sealed envelopes one by one and streams them into an accumulator.
 * Secure aggregation (secagg/) plugs in a collector that runs its masking rounds with the same
 * assignments and returns the unmasked sums, so the coordinator never sees one client's delta.
 */
/** What a secure evaluation needs: the phase context and a logger (secure aggregation's evaluate, below). */
export interface SecureEvaluationContext extends TaskPhaseContext {
  logger: Logger;
}

/** A secure evaluation's outcome: only the round's example-weighted means, never one device's metrics. */
export interface SecureEvaluation {
  participants: string[];
  failures: Failure[];
  numExamples: number;
  metrics: Record<string, number>;
  /** Set when too few devices stayed for the sum to be unmasked: nothing was revealed. */
  abandonReason?: string;
}

export interface FitCollector {
  readonly name: string;
  /**
   * Optional: runs the evaluate phase so that the coordinator sees only the sum of the devices' results
   * (SecAggFitCollector). Without it, devices answer `round:evaluate` one by one.
   */
  evaluate?(ctx: SecureEvaluationContext): Promise<SecureEvaluation>;
  collect(ctx: FitRoundContext): Promise<FitCollection>;
  /**
   * Optional: where the plain evaluate phase opens its sealed results (PlainFitCollector: its update workers).
   * Without it, or when it returns undefined, the main thread opens them.
   */
  evaluationOpener?(secretKey: Uint8Array): EvaluationOpener | undefined;
  /** Releases what the collector holds between rounds (the plain collector's update workers); called when the coordinator stops. */
  close?(): Promise<void>;
}
