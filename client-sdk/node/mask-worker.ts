/**
 * The worker thread behind WorkerMaskExpander: runs one mask job at a time (`expandMaskJob`: X25519 agreements
 * and AES-CTR mask expansions, in node:crypto here too) and sends the mask back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { answerMaskJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

parentPort!.on('message', (request: MaskWorkerRequest) => {
  // expandMaskJob is synchronous: one job runs to its end before the next message is read.
  void answerMaskJob(request).then(({ reply, transfer }) => parentPort!.postMessage(reply, transfer));
});
