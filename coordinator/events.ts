import type { CatalogueAddResult } from '@fedrec/protocol';
import type { ClientRuntime } from '@fedrec/protocol';
import type { RoundRecord } from './round-record.js';

export interface RoundStarted {
  roundId: number;
  modelVersion: number;
  selected: string[];
  /** Epoch ms. */
  deadline: number;
}

/** Events a coordinator emits (Node EventEmitter, typed). */
export interface CoordinatorEvents {
  'round:started': [RoundStarted];
  'round:committed': [RoundRecord];
  'round:abandoned': [RoundRecord];
  /** Buffered mode: a committed version's evaluation finished (it runs beside training); the record now holds it. */
  'round:evaluated': [RoundRecord];
  'client:connected': [{ clientId: string; runtime?: ClientRuntime }];
  'client:disconnected': [{ clientId: string; reason: string }];
  /** The fixed number of rounds is done (never in continuous mode). */
  'training:finished': [{ modelVersion: number }];
  /** A model was rolled back: version `modelVersion` now serves the weights of version `weightsOf`. */
  'model:rolledBack': [{ from: number; modelVersion: number; weightsOf: number; reason: string }];
  /** Something unexpected in the round loop or checkpointing; the coordinator keeps running. */
  'engine:error': [Error];
  /** Items were added between rounds: a new model version with more item rows is committed. */
  'catalogue:grown': [CatalogueAddResult];
}

export type EmitCoordinatorEvent = <K extends keyof CoordinatorEvents>(event: K, ...args: CoordinatorEvents[K]) => void;
