/**
 * The worker thread behind WorkerMaskExpander: runs one mask job at a time (`expandMaskJob`: X25519 agreements
 * and AES-CTR mask expansions, in node:crypto here too) and sends the mask back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { answerMaskJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

parentPort!.on('message', (request: MaskWorkerRequest) => {
  const { reply, transfer } = answerMaskJob(request);
  parentPort!.postMessage(reply, transfer);
});
