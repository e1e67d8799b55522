import type { LoadSummary } from '@fedrec/recsys/data/types.js';
import type { RoundRow } from './run-simulation.js';

export interface QualityFigures {
  hr10: number;
  ndcg10: number;
  wallClockMs: number;
}

/** The JSON report `npm run simulate -- --report PATH` writes. */
export interface SimulationReport {
  generatedAt: string;
  command: string[];
  data: {
    source: string;
    summary: LoadSummary;
    users: number;
    items: number;
    clients: number;
    /** Which interaction each user holds out (--holdout) and why, in words. */
    holdout: string;
    holdoutDescription: string;
    skippedUsers: number;
  };
  config: Record<string, unknown>;
  itemPop: { hr10: number; ndcg10: number };
  /** The same model trained centrally (Adam, early stopping on validation); epochs = epochs run. */
  centralized: CentralizedFigures | null;
  /**
   * The strong tuned baseline (recsys/baselines/strong-baseline.ts): with seeds > 1 the figures are
   * those of the seeds' averaged scores; bestEpoch and validationHr10 are the first seed's.
   */
  strongBaseline: (CentralizedFigures & { learningRate: number; l2: number; negatives: number; initStd: number; seeds: number }) | null;
  /**
   * hr10/ndcg10: TEST figures of the round chosen on validation (chosenRound; null when no round was
   * evaluated). coverage: how many devices that evaluation covered and which it did not.
   * stopped: why the run ended early (abandoned rounds in a row, time limit), else null.
   * engine: what the devices trained with ("js", "tfjs"); backend: their tfjs backend (null when none was selected).
   */
  federated: {
    hr10: number | null;
    ndcg10: number | null;
    wallClockMs: number;
    chosenRound: number | null;
    chosenOn: 'validation';
    validationHr10: number | null;
    lastEvaluated: { hr10: number; ndcg10: number; loss: number } | null;
    coverage: { devices: number; covered: number; missing: string[] } | null;
    stopped: string | null;
    rounds: RoundRow[];
    connectMs: number;
    backend: string | null;
    engine: string | null;
    bytesUp: number;
    bytesDown: number;
    bytesUpPerDevicePerRound: number;
    bytesDownPerDevicePerRound: number;
  };
  /** Federated over centralized (same model), when both ran. */
  ratios: { hr10: number; ndcg10: number } | null;
  /** Federated over the strong baseline, when both ran. */
  strongRatios: { hr10: number; ndcg10: number } | null;
}

export interface CentralizedFigures extends QualityFigures {
  epochs: number;
  bestEpoch: number;
  validationHr10: number | null;
  model: string;
  factors: number;
}

export function ratiosOf(federated: QualityFigures, centralized: QualityFigures | null): SimulationReport['ratios'] {
  if (!centralized) return null;
  return { hr10: federated.hr10 / centralized.hr10, ndcg10: federated.ndcg10 / centralized.ndcg10 };
}
