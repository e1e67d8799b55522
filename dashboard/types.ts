// What the dashboard namespace pushes; shared by the Node feed and the browser app (types only).
// Type imports from the files that declare them: the coordinator's index would pull express (and Node types) into the page.
import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';
import type { RoundStarted } from '@fedrec/coordinator/events.js';
import type { RoundRecord } from '@fedrec/coordinator/round-record.js';

/** Bytes that crossed the Socket.IO connections of federated clients during one round. */
export interface RoundTraffic {
  /** Client → coordinator (sealed updates, acks). */
  bytesUp: number;
  /** Coordinator → clients (tasks with the global weights, verdicts). */
  bytesDown: number;
}

/** A round as the dashboard shows it: the coordinator's record plus what the wire carried. */
export interface DashboardRound extends RoundRecord {
  /** Null for rounds from before this dashboard attached (e.g. resumed from a checkpoint). */
  traffic: RoundTraffic | null;
}

export interface DashboardClient {
  clientId: string;
  /** Epoch ms. */
  connectedAt: number;
  /** Selected in the round running now. */
  selected: boolean;
  /** Rounds whose aggregate included this client, since the dashboard attached. */
  roundsContributed: number;
  /** "engine/backend" the client announced (e.g. "js/none", "tfjs/webgl"); absent when it did not say. */
  runtime?: string;
}

export interface DashboardSnapshot {
  status: CoordinatorStatus;
  rounds: DashboardRound[];
  clients: DashboardClient[];
  current: RoundStarted | null;
}

export interface DashboardServerEvents {
  'dashboard:snapshot': (snapshot: DashboardSnapshot) => void;
  'dashboard:round-started': (started: RoundStarted) => void;
  'dashboard:round-ended': (round: DashboardRound) => void;
  'dashboard:clients': (clients: DashboardClient[]) => void;
  'dashboard:status': (status: CoordinatorStatus) => void;
}

export const DASHBOARD_NAMESPACE = '/dashboard';
