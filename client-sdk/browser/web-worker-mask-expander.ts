import type { CorrectionJob, ExpandedMask, MaskJob, SharedKeys, ShareJob } from '@fedrec/secagg';
import { PendingMaskJobs, type MaskWorkerReply, type MaskWorkerRequest } from '../mask-worker-jobs.js';

/** The worker's file name in dist/browser (scripts/build-browser.ts builds client-sdk/browser/mask-worker.ts to it). */
export const MASK_WORKER_FILE = 'fedrec-mask-worker.js';

/**
 * Where the mask worker is: next to the bundle that holds this code, as the wasm files are (defaultWasmPaths).
 * Undefined when this code is not running from an ES module URL (an app's own classic bundle): that app names the
 * URL, or its masks stay on the main thread.
 */
export function defaultMaskWorkerUrl(): string | undefined {
  try {
    return new URL(`./${MASK_WORKER_FILE}`, import.meta.url).href;
  } catch {
    return undefined;
  }
}

/**
 * Secure aggregation's device work in a Web Worker (a MaskWorkerExpander for FederatedClient's `expandMasks`): stage
 * 1's share keys, stage 2's masks and stage 3's unmask correction, the browser twin of node/worker-mask-expander.ts.
 * Why: in a browser all are pure JS (X25519 for the k agreements of each stage, AES for the k + 1 mask expansions and
 * one more per dropped neighbour), tens to hundreds of ms a round at k = 66 on the page's main thread, where they
 * would freeze the page and delay training or the unmask reply (README "Which column ships"). The round's secrets go
 * to the worker (same origin, same page) and come back as shares, seeds and sums. The worker (a module worker)
 * starts on the first job; one that fails to load or throws fails every job out (that round ends on this device with
 * INTERNAL) and the next job starts a new one.
 */
export class WebWorkerMaskExpander {
  private worker: Worker | undefined;
  private readonly jobs = new PendingMaskJobs();

  constructor(private readonly url: string | URL) {}

  /** Runs `expandMaskJob(job)` on the worker. */
  readonly expand = (job: MaskJob): Promise<ExpandedMask> => this.jobs.add({ kind: 'mask', job }, this.post);

  /** Runs `runShareJob(job)` on the worker. */
  readonly runShareJob = (job: ShareJob): Promise<SharedKeys> => this.jobs.add({ kind: 'share', job }, this.post);

  /** Runs `runCorrectionJob(job)` on the worker. */
  readonly correct = (job: CorrectionJob): Promise<Uint8Array> => this.jobs.add({ kind: 'correction', job }, this.post);

  /** Stops the worker; jobs still running are refused. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    worker?.terminate();
    this.jobs.failAll(new Error('mask worker closed'));
  }

  private readonly post = (request: MaskWorkerRequest): void => this.started().postMessage(request);

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.url, { type: 'module', name: 'fedrec-mask-worker' });
    worker.onmessage = (event: MessageEvent<MaskWorkerReply>) => this.jobs.settle(event.data);
    // A script that does not load (404, a CSP refusal) or throws outside a job: the browser gives only an ErrorEvent.
    worker.onerror = (event) => {
      event.preventDefault();
      this.crashed(worker, new Error(`mask worker failed: ${event.message || `could not run ${String(this.url)}`}`));
    };
    worker.onmessageerror = () => this.crashed(worker, new Error('mask worker sent a reply that could not be read'));
    this.worker = worker;
    return worker;
  }

  private crashed(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    worker.terminate();
    this.jobs.failAll(err);
  }
}
