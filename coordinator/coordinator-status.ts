import type { CoordinatorState } from './state.js';
import type { PrivacyStatus } from './privacy/round-privacy.js';
import type { BufferedStatus } from './buffered/buffered-stats.js';

/** What `/api/status` and `coordinator.status()` report. */
export interface CoordinatorStatus {
  protocolVersion: number;
  phase: CoordinatorState['phase'];
  modelVersion: number;
  modelSpec: CoordinatorState['modelSpec'];
  nextRoundId: number;
  currentRound: CoordinatorState['current'];
  connectedClients: number;
  /** Clients that must be connected before a round starts (a waiting coordinator waits for minClients - connectedClients more). */
  minClients: number;
  /** Accepted results a round needs to commit. */
  minResults: number;
  /** Connected clients by the engine and tfjs backend they announced: "js/none", "tfjs/webgl", ... → count. */
  clientRuntimes: Record<string, number>;
  roundsCommitted: number;
  roundsAbandoned: number;
  mode: 'continuous' | 'fixed';
  roundsTarget: number | null;
  strategy: string;
  collector: string;
  fingerprint: string | null;
  publicKey: string | null;
  startedAt: number | null;
  /** Under DP: epsilon spent so far, the budget, and why training stopped for it (coordinator/privacy/). */
  privacy?: PrivacyStatus;
  /** Buffered mode only (options.mode 'buffered'): buffer fill, updates per second, staleness histogram. */
  buffered?: BufferedStatus;
}
