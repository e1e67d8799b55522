import type { AggregateSums, EnvelopeBinding, WeightManifest } from '@fedrec/protocol';
import type { UpdateLimits } from '../fit-collector.js';
import type { BoundsTally, UpdateBounds } from '../strategy/update-policy.js';

/** A sealed envelope as posted to a worker (its AEAD is the protocol's one). */
export interface SealedParts {
  senderPublicKey: Uint8Array;
  nonce: Uint8Array;
  /** Its own ArrayBuffer, in the transfer list. */
  ciphertext: Uint8Array;
}

/** Open and validate a fit update for the round. */
export interface OpenRequest {
  type: 'open';
  round: number;
  job: number;
  binding: EnvelopeBinding;
}

/** Open and check a sealed evaluate result (evaluation-opening.ts); needs no round: evaluations run after a fit or beside buffered ones. */
export interface EvaluateRequest {
  type: 'evaluate';
  job: number;
  binding: EnvelopeBinding;
  maxMetricKeys: number | undefined;
}

/** What the main thread asks an update worker. Buffers travel transferred (moved), never copied. */
export type ToWorker =
  | { type: 'begin'; round: number; manifest: WeightManifest; limits: UpdateLimits }
  | (SealedParts & OpenRequest)
  /**
   * Apply the policy's bounds and add to this worker's partial sums. `scale` (buffered mode's staleness
   * weight; 1 when absent) multiplies the delta before the bounds, as the main thread's path does. Not
   * answered: what the bounds did comes back as the tally with the sums, and a failed apply in `failedJobs`.
   */
  | { type: 'apply'; round: number; job: number; bounds: UpdateBounds; scale?: number }
  /** Hand the opened update back (buffering strategies, a policy still warming up). */
  | { type: 'take'; round: number; job: number }
  | { type: 'discard'; round: number; job: number }
  /** Hand over the partial sums and forget the round. */
  | { type: 'finish'; round: number; job: number }
  /** Hand over the partial sums and go on with empty ones in the same round, keeping opened updates (buffered mode). */
  | { type: 'cut'; round: number; job: number }
  | (SealedParts & EvaluateRequest);

export type FromWorker =
  | { type: 'opened'; job: number; numExamples: number; metrics: Record<string, number>; received: number; rowNorms: Float64Array }
  | { type: 'taken'; job: number; numExamples: number; delta: Float32Array; rowWeights: Float32Array | undefined }
  | { type: 'evaluated'; job: number; numExamples: number; metrics: Record<string, number> }
  | { type: 'failed'; job: number; code: string; message: string }
  /**
   * The answer to 'finish' and 'cut': the partial sums, what the bounds did to the updates in them, and the
   * applies since the last hand-over that failed (their updates are not in the sums).
   */
  | { type: 'finished'; job: number; round: number; sums: AggregateSums | undefined; tally: BoundsTally; failedJobs: number[] };
