import type { EngineRequest } from '@fedrec/models/engine-choice.js';
import type { UserData } from '@fedrec/recsys/split.js';
import type { Personalization } from '@fedrec/client-sdk/trainers/pfedrec.js';

/** What the main thread gives a worker that hosts a slice of the simulated devices. */
export interface FleetWorkerInit {
  url: string;
  users: UserData[];
  engine: EngineRequest;
  seed: number;
  /** On-device personalization of every device (default 'none'). */
  personalization?: Personalization;
  /** Devices connecting at once; the rest wait, so the coordinator is not hit by a thundering herd. */
  connectConcurrency: number;
  /** Slowdown factor by user id (device-speed.ts); absent = every device at its own speed. */
  slowdown?: Record<number, number>;
}

/** Worker to main thread. */
export type FleetWorkerMessage =
  | { type: 'ready'; clients: number; backend: string | undefined; engine: string | undefined }
  | { type: 'fit'; roundId: number; bytesSent: number }
  | { type: 'failed'; roundId: number | undefined; code: string; message: string }
  | { type: 'error'; message: string }
  /** The longest the worker's event loop was blocked in the last interval (ms). */
  | { type: 'lag'; maxMs: number }
  | { type: 'closed' };

/** Main thread to worker. */
export type FleetCommand = { type: 'close' };
