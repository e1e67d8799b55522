import type { Failure } from './failure.js';
import type { RoundPrivacy } from './privacy/round-privacy.js';

export interface EvaluationRecord {
  modelVersion: number;
  participants: string[];
  failures: Failure[];
  numExamples: number;
  /** Aggregated by the strategy (FedAvg: example-weighted mean). */
  metrics: Record<string, number>;
}

/** One round as kept in history, checkpoints and /api/rounds. */
export interface RoundRecord {
  roundId: number;
  outcome: 'committed' | 'abandoned';
  /** Model version the round trained on. */
  baseModelVersion: number;
  /** Model version after the round (unchanged when abandoned). */
  modelVersion: number;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  selected: string[];
  /** Clients whose results went into the aggregate. */
  participants: string[];
  failures: Failure[];
  totalExamples: number;
  /** Example-weighted mean of client-reported training metrics (empty when the collector cannot see them). */
  fitMetrics: Record<string, number>;
  evaluation: EvaluationRecord | null;
  /** Why the round was abandoned; null when committed. */
  abandonReason: string | null;
  /** Under DP: epsilon after this round, and whether the round released a noisy sum (coordinator/privacy/). */
  privacy?: RoundPrivacy;
}
