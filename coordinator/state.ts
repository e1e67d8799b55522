import type { ModelSpec, Weights } from '@fedrec/protocol';
import type { RoundRecord } from './round-record.js';

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
  nextRoundId: number;
  history: RoundRecord[];
  phase: Phase;
  current: CurrentRound | null;
  /** Counted across restarts: resumed from the checkpoint's version and round counter (history is capped). */
  roundsCommitted: number;
  roundsAbandoned: number;
}
