/**
 * The Web Worker behind WebWorkerMaskExpander, built as its own module (dist/browser/fedrec-mask-worker.js, next to
 * the SDK bundle): runs the share jobs (`runShareJob`: X25519 agreements, Shamir splits, seals), the mask jobs
 * (X25519 again, AES-CTR expansions) and the unmask corrections (one AES-CTR expansion per dropped neighbour) with
 * WebCrypto's native X25519 and AES-CTR where the worker has them (the pure-JS tweetnacl and AES of the page
 * otherwise: tens of times slower) and sends each mask and correction back without a copy.
 */
import { runCorrectionJob, runCorrectionJobWith, type CorrectionJob } from '@fedrec/secagg/correction-job.js';
import { expandMaskJob, expandMaskJobWith, type MaskJob } from '@fedrec/secagg/mask-job.js';
import { runShareJob, type ShareJob } from '@fedrec/secagg/share-job.js';
import { webCryptoKeystream } from '@fedrec/secagg/webcrypto-keystream.js';
import { webCryptoX25519 } from '@fedrec/secagg/webcrypto-x25519.js';
import { answerMaskWorkerJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

// The bundle is typed against the DOM library; in a dedicated worker `self` is the worker's scope.
const scope = self as unknown as {
  onmessage: ((event: { data: MaskWorkerRequest }) => void) | null;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
};

// crypto.subtle exists only in secure contexts (https, localhost): elsewhere the pure-JS path. X25519 came to
// WebCrypto later than AES-CTR: checked once here, undefined where missing (the jobs then agree in tweetnacl).
const subtle = globalThis.crypto?.subtle;
const keystream = subtle ? webCryptoKeystream(subtle) : undefined;
const x25519 = subtle ? webCryptoX25519(subtle) : Promise.resolve(undefined);
const share = async (job: ShareJob) => runShareJob(job, await x25519);
const mask = async (job: MaskJob) => (keystream ? expandMaskJobWith(job, keystream, await x25519) : expandMaskJob(job));
const correction = (job: CorrectionJob) => (keystream ? runCorrectionJobWith(job, keystream) : runCorrectionJob(job));

// One job at a time, in order: the WebCrypto paths await, and jobs interleaved there would only finish later each.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    const { reply, transfer } = await answerMaskWorkerJob(data, { share, mask, correction });
    scope.postMessage(reply, transfer);
  });
};
