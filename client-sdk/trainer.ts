import type { ModelSpec, TrainingConfig, Weights } from '../protocol/index.js';

/** What a trainer is given for one fit or evaluate task. */
export interface TaskContext {
  roundId: number;
  modelVersion: number;
  config: TrainingConfig;
  modelSpec: ModelSpec;
  /** The global shared weights for this round. */
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
}
