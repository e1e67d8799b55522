import type { ModelSpec, Weights } from '@fedrec/protocol';
import type { Catalogue } from './catalogue.js';
import type { RoundRecord } from './round-record.js';
import type { UpdatePolicy } from './strategy/update-policy.js';

export type Phase = 'idle' | 'waiting-for-clients' | 'fit' | 'evaluate' | 'backoff' | 'finished' | 'stopped';

export interface CurrentRound {
  roundId: number;
  startedAt: number;
  deadline: number;
  selected: string[];
}

/** The coordinator's mutable state, owned by one coordinator instance and changed only by its round engine. */
export interface CoordinatorState {
  global: Weights;
  modelSpec: ModelSpec;
  modelVersion: number;
  /** App item ids -> model rows, with popularity; persisted with the model it belongs to. */
  catalogue: Catalogue;
  nextRoundId: number;
  history: RoundRecord[];
  phase: Phase;
  current: CurrentRound | null;
  /** Counted across restarts: resumed from the checkpoint's version and round counter (history is capped). */
  roundsCommitted: number;
  roundsAbandoned: number;
  /** Rollbacks since this process started (automatic or by the operator). */
  rollbacks: number;
  /** The plain-mode norm bound and weight cap, with their history (checkpointed). */
  updatePolicy: UpdatePolicy;
}

/** What a checkpoint is written from: the next model before it is served (see RoundEngine). */
export type ModelSnapshot = Pick<CoordinatorState, 'global' | 'modelSpec' | 'modelVersion' | 'nextRoundId' | 'history'> & { rolledBackFrom?: number };
