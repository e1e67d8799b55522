import { runCorrectionJob, type CorrectionJob } from '@fedrec/secagg/correction-job.js';
import { expandMaskJob, type ExpandedMask, type MaskJob } from '@fedrec/secagg/mask-job.js';
import { runShareJob, type SharedKeys, type ShareJob } from '@fedrec/secagg/share-job.js';

/**
 * The jobs a device's mask worker (Node worker thread or Web Worker) runs for secure aggregation: stage 1's share
 * keys (`runShareJob`), stage 2's masks (`expandMaskJob`) and stage 3's unmask correction (`runCorrectionJob`). One
 * worker per device runs all three.
 */
export type MaskWorkerJob = { kind: 'share'; job: ShareJob } | { kind: 'mask'; job: MaskJob } | { kind: 'correction'; job: CorrectionJob };

/** What each kind of job resolves with. */
export interface MaskWorkerResults {
  share: SharedKeys;
  mask: ExpandedMask;
  correction: Uint8Array;
}

type MaskWorkerResult = MaskWorkerResults[keyof MaskWorkerResults];

/** What the thread that asks posts to the worker. */
export type MaskWorkerRequest = MaskWorkerJob & { id: number };

/** `refused`: the job's input was refused (a RangeError: a neighbour key X25519 refuses), not the worker's own failure. */
export type MaskWorkerReply = { id: number; ok: true; result: MaskWorkerResult } | { id: number; ok: false; error: string; refused: boolean };

/** How the worker runs each kind of job (the browser worker expands masks and corrections with WebCrypto's keystreams). */
export interface MaskWorkerRunners {
  share: (job: ShareJob) => Promise<SharedKeys>;
  mask: (job: MaskJob) => ExpandedMask | Promise<ExpandedMask>;
  correction: (job: CorrectionJob) => Uint8Array | Promise<Uint8Array>;
}

const defaultRunners: MaskWorkerRunners = { share: runShareJob, mask: expandMaskJob, correction: runCorrectionJob };

/**
 * The worker's side: runs one job, and names a mask's or a correction's buffer so it goes back without a copy (share
 * results are small).
 */
export async function answerMaskWorkerJob(
  request: MaskWorkerRequest,
  runners: Partial<MaskWorkerRunners> = {},
): Promise<{ reply: MaskWorkerReply; transfer: ArrayBuffer[] }> {
  const { id } = request;
  try {
    if (request.kind === 'share') return { reply: { id, ok: true, result: await (runners.share ?? defaultRunners.share)(request.job) }, transfer: [] };
    if (request.kind === 'correction') {
      const correction = await (runners.correction ?? defaultRunners.correction)(request.job);
      return { reply: { id, ok: true, result: correction }, transfer: [correction.buffer as ArrayBuffer] };
    }
    const expanded = await (runners.mask ?? defaultRunners.mask)(request.job);
    return { reply: { id, ok: true, result: expanded }, transfer: [expanded.mask.buffer as ArrayBuffer] };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { reply: { id, ok: false, error, refused: err instanceof RangeError }, transfer: [] };
  }
}

/**
 * The asking side's book of jobs posted to a mask worker and not yet answered, shared by the Node and browser
 * workers' owners. A refused job comes back as a RangeError (the only error the jobs throw on input: a neighbour
 * key X25519 refuses), which SecAggClient turns into BAD_ROSTER; any other failure in the worker, or a worker that
 * dies (every job out), as a plain Error, which aborts the round on the device as INTERNAL. What comes back is
 * checked against its job by SecAggClient (shareKeysWith, receiveSharesWith, unmaskWith), not here.
 */
export class PendingMaskJobs {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: MaskWorkerResult) => void; reject: (err: Error) => void }>();

  get size(): number {
    return this.pending.size;
  }

  /** Books a job and hands its request to `post`; the promise settles with the worker's reply. */
  add<K extends MaskWorkerJob['kind']>(job: Extract<MaskWorkerJob, { kind: K }>, post: (request: MaskWorkerRequest) => void): Promise<MaskWorkerResults[K]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      // The reply to request `id` answers this job's kind (answerMaskWorkerJob), hence the narrowing.
      this.pending.set(id, { resolve: resolve as (result: MaskWorkerResult) => void, reject });
      try {
        post({ ...job, id });
      } catch (err) {
        this.pending.delete(id); // no worker to post to: the job is refused with that error
        throw err;
      }
    });
  }

  /** Settles the job a reply answers (a reply to no booked job, e.g. after failAll, is dropped). */
  settle(reply: MaskWorkerReply): void {
    const job = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.ok) job?.resolve(reply.result);
    else job?.reject(reply.refused ? new RangeError(reply.error) : new Error(`mask worker failed: ${reply.error}`));
  }

  failAll(err: Error): void {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}
