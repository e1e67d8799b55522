import { expandMaskJob, type ExpandedMask, type MaskJob } from '@fedrec/secagg/mask-job.js';

/** What the thread that asks for masks posts to a mask worker (Node worker thread or Web Worker). */
export interface MaskWorkerRequest {
  id: number;
  job: MaskJob;
}

export type MaskWorkerReply = { id: number; ok: true; expanded: ExpandedMask } | { id: number; ok: false; error: string };

/** The worker's side: runs one job, and names the mask's buffer so it goes back without a copy. */
export function answerMaskJob({ id, job }: MaskWorkerRequest): { reply: MaskWorkerReply; transfer: ArrayBuffer[] } {
  try {
    const expanded = expandMaskJob(job);
    return { reply: { id, ok: true, expanded }, transfer: [expanded.mask.buffer as ArrayBuffer] };
  } catch (err) {
    return { reply: { id, ok: false, error: err instanceof Error ? err.message : String(err) }, transfer: [] };
  }
}

/**
 * The asking side's book of jobs posted to a mask worker and not yet answered, shared by the Node and browser
 * expanders. A refused job comes back as a RangeError (the only error expandMaskJob throws on input: a neighbour
 * key X25519 refuses), which SecAggClient turns into BAD_ROSTER; a worker that dies fails every job with a plain
 * Error, which aborts the round on the device as INTERNAL.
 */
export class PendingMaskJobs {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (e: ExpandedMask) => void; reject: (err: Error) => void }>();

  get size(): number {
    return this.pending.size;
  }

  /** Books a job and hands its request to `post`; the promise settles with the worker's reply. */
  add(job: MaskJob, post: (request: MaskWorkerRequest) => void): Promise<ExpandedMask> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      try {
        post({ id, job });
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
    if (reply.ok) job?.resolve(reply.expanded);
    else job?.reject(new RangeError(reply.error));
  }

  failAll(err: Error): void {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}
