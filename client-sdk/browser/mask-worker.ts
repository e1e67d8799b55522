/**
 * The Web Worker behind WebWorkerMaskExpander, built as its own module (dist/browser/fedrec-mask-worker.js, next to
 * the SDK bundle): runs one mask job at a time (`expandMaskJob`: X25519 agreements and AES-CTR expansions, pure JS
 * in browsers) and sends the mask back without a copy.
 */
import { answerMaskJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

// The bundle is typed against the DOM library; in a dedicated worker `self` is the worker's scope.
const scope = self as unknown as {
  onmessage: ((event: { data: MaskWorkerRequest }) => void) | null;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
};

scope.onmessage = ({ data }) => {
  const { reply, transfer } = answerMaskJob(data);
  scope.postMessage(reply, transfer);
};
