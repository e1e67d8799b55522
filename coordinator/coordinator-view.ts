import type { EventEmitter } from 'node:events';
import type { Weights } from '@fedrec/protocol';
import type { CoordinatorEvents } from './events.js';
import type { RoundRecord } from './round-record.js';
import type { CoordinatorStatus } from './coordinator-status.js';

/**
 * A running coordinator as an observer sees it: its state and its events, without start/stop or its
 * options. Extensions get this view (options list the extensions, so the full Coordinator would make
 * the types depend on themselves).
 */
export interface CoordinatorView extends EventEmitter<CoordinatorEvents> {
  status(): CoordinatorStatus;
  history(): readonly RoundRecord[];
  currentWeights(): Weights;
  readonly modelVersion: number;
  /** Resolves once the model version reaches `version` (rejects on timeout or stop). */
  waitForVersion(version: number, timeoutMs?: number): Promise<void>;
}
