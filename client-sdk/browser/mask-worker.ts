/**
 * The Web Worker behind WebWorkerMaskExpander, built as its own module (dist/browser/fedrec-mask-worker.js, next to
 * the SDK bundle): runs the share jobs (`runShareJob`: X25519 agreements in pure JS, Shamir splits, seals) and the
 * mask jobs (X25519 again, AES-CTR expansions in WebCrypto where the worker has it, which is about 17x faster than
 * the pure-JS AES `expandMaskJob` falls back to) and sends each mask back without a copy.
 */
import { expandMaskJob, expandMaskJobWith, type MaskJob } from '@fedrec/secagg/mask-job.js';
import { webCryptoKeystream } from '@fedrec/secagg/webcrypto-keystream.js';
import { answerMaskWorkerJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

// The bundle is typed against the DOM library; in a dedicated worker `self` is the worker's scope.
const scope = self as unknown as {
  onmessage: ((event: { data: MaskWorkerRequest }) => void) | null;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
};

// crypto.subtle exists only in secure contexts (https, localhost): elsewhere the pure-JS path.
const keystream = globalThis.crypto?.subtle ? webCryptoKeystream(globalThis.crypto.subtle) : undefined;
const mask = (job: MaskJob) => (keystream ? expandMaskJobWith(job, keystream) : expandMaskJob(job));

// One job at a time, in order: the WebCrypto path awaits, and jobs interleaved there would only finish later each.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    const { reply, transfer } = await answerMaskWorkerJob(data, { mask });
    scope.postMessage(reply, transfer);
  });
};
