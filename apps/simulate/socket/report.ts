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
  data: { source: string; summary: LoadSummary; users: number; items: number; clients: number };
  config: Record<string, unknown>;
  itemPop: { hr10: number; ndcg10: number };
  centralized: (QualityFigures & { epochs: number }) | null;
  /** engine: what the devices trained with ("js", "tfjs"); backend: their tfjs backend (null when none was selected). */
  federated: QualityFigures & {
    rounds: RoundRow[];
    connectMs: number;
    backend: string | null;
    engine: string | null;
    bytesUp: number;
    bytesDown: number;
    bytesUpPerDevicePerRound: number;
    bytesDownPerDevicePerRound: number;
  };
  /** Federated over centralized, when both ran. */
  ratios: { hr10: number; ndcg10: number } | null;
}

export function ratiosOf(federated: QualityFigures, centralized: QualityFigures | null): SimulationReport['ratios'] {
  if (!centralized) return null;
  return { hr10: federated.hr10 / centralized.hr10, ndcg10: federated.ndcg10 / centralized.ndcg10 };
}
