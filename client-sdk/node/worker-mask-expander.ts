import type { Worker } from 'node:worker_threads';
import type { CorrectionJob, ExpandedMask, MaskJob, SharedKeys, ShareJob } from '@fedrec/secagg';
import { PendingMaskJobs, type MaskWorkerReply, type MaskWorkerRequest } from '../mask-worker-jobs.js';
import { startModuleWorker } from './module-worker.js';

/**
 * Secure aggregation's device work on a worker thread (a MaskWorkerExpander for FederatedClient's `expandMasks`):
 * stage 1's share keys, stage 2's masks and stage 3's unmask correction. Why: the SDK runs the first two while the
 * device trains (training starts at stage 0), but training runs on the main thread too (the plain-JS engine), so on
 * that thread they would delay training by their whole cost (README "Which column ships"); on a worker they overlap it
 * wherever a second core is free. The correction (one mask expansion per dropped neighbour) goes to the same worker
 * so that the main thread stays free for the app. The round's secrets (cipher and mask secret keys, self-mask seed,
 * the dropped neighbours' pairwise seeds) go to the worker and come back as shares, keys, seeds and sums; they never
 * leave the process. The worker starts on the first job, holds the process open only while a job runs, and a
 * crashed worker fails its jobs (that round ends on this device with INTERNAL; the next job starts a new worker).
 */
export class WorkerMaskExpander {
  private worker: Worker | undefined;
  private readonly jobs = new PendingMaskJobs();

  /** Runs `expandMaskJob(job)` on the worker. */
  readonly expand = (job: MaskJob): Promise<ExpandedMask> => this.jobs.add({ kind: 'mask', job }, this.post);

  /** Runs `runShareJob(job)` on the worker. */
  readonly runShareJob = (job: ShareJob): Promise<SharedKeys> => this.jobs.add({ kind: 'share', job }, this.post);

  /** Runs `runCorrectionJob(job)` on the worker. */
  readonly correct = (job: CorrectionJob): Promise<Uint8Array> => this.jobs.add({ kind: 'correction', job }, this.post);

  /** Stops the worker; jobs still running are refused. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.jobs.failAll(new Error('mask worker closed'));
    await worker?.terminate();
  }

  private readonly post = (request: MaskWorkerRequest): void => {
    const worker = this.started();
    worker.ref();
    worker.postMessage(request);
  };

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleWorker(import.meta.url, 'mask-worker', undefined);
    worker.on('message', (reply: MaskWorkerReply) => {
      this.jobs.settle(reply);
      if (this.jobs.size === 0) worker.unref();
    });
    worker.on('error', (err) => this.crashed(worker, err));
    worker.on('exit', (code) => this.crashed(worker, new Error(`mask worker exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private crashed(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.jobs.failAll(err);
  }
}
