import { expandMaskJob, type ExpandedMask, type MaskJob } from '@fedrec/secagg/mask-job.js';

/** What the thread that asks for masks posts to a mask worker (Node worker thread or Web Worker). */
export interface MaskWorkerRequest {
  id: number;
  job: MaskJob;
}

/** `refused`: the job's input was refused (a RangeError: a neighbour key X25519 refuses), not the worker's own failure. */
export type MaskWorkerReply = { id: number; ok: true; expanded: ExpandedMask } | { id: number; ok: false; error: string; refused: boolean };

/**
 * The worker's side: runs one job (`expandMaskJob`, or the worker's own `expand`), and names the mask's buffer so it
 * goes back without a copy.
 */
export async function answerMaskJob(
  { id, job }: MaskWorkerRequest,
  expand: (job: MaskJob) => ExpandedMask | Promise<ExpandedMask> = expandMaskJob,
): Promise<{ reply: MaskWorkerReply; transfer: ArrayBuffer[] }> {
  try {
    const expanded = await expand(job);
    return { reply: { id, ok: true, expanded }, transfer: [expanded.mask.buffer as ArrayBuffer] };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { reply: { id, ok: false, error, refused: err instanceof RangeError }, transfer: [] };
  }
}

/**
 * The asking side's book of jobs posted to a mask worker and not yet answered, shared by the Node and browser
 * expanders. A refused job comes back as a RangeError (the only error expandMaskJob throws on input: a neighbour
 * key X25519 refuses), which SecAggClient turns into BAD_ROSTER; any other failure in the worker, or a worker that
 * dies (every job out), as a plain Error, which aborts the round on the device as INTERNAL.
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
    else job?.reject(reply.refused ? new RangeError(reply.error) : new Error(`mask worker failed: ${reply.error}`));
  }

  failAll(err: Error): void {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}
