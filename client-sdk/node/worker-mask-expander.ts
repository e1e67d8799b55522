import type { Worker } from 'node:worker_threads';
import type { ExpandedMask, MaskJob } from '@fedrec/secagg';
import { PendingMaskJobs, type MaskWorkerReply } from '../mask-worker-jobs.js';
import { startModuleWorker } from './module-worker.js';

/**
 * Secure aggregation's mask work on a worker thread (a MaskExpander for FederatedClient's `expandMasks`). Why: the
 * SDK expands a round's masks when the forwarded shares arrive, while the device trains, but training runs on the
 * main thread too (the plain-JS engine), so on that thread the masks would delay training by their whole cost
 * (README "Which column ships"); on a worker they overlap it wherever a second core is free. The round's secrets
 * (self-mask seed, mask secret key) go to the worker and come back as seeds; they never leave the process. The
 * worker starts on the first job, holds the process open only while a job runs, and a crashed worker fails its
 * jobs (that round ends on this device with INTERNAL; the next job starts a new worker).
 */
export class WorkerMaskExpander {
  private worker: Worker | undefined;
  private readonly jobs = new PendingMaskJobs();

  /** Runs `expandMaskJob(job)` on the worker. */
  readonly expand = (job: MaskJob): Promise<ExpandedMask> =>
    this.jobs.add(job, (request) => {
      const worker = this.started();
      worker.ref();
      worker.postMessage(request);
    });

  /** Stops the worker; jobs still running are refused. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.jobs.failAll(new Error('mask worker closed'));
    await worker?.terminate();
  }

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
