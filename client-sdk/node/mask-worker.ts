/**
 * The worker thread behind WorkerMaskExpander: runs a device's secure-aggregation jobs (stage 1's `runShareJob`,
 * stage 2's `expandMaskJob`, stage 3's `runCorrectionJob`: X25519 agreements, Shamir splits, seals, AES-CTR mask
 * expansions, in node:crypto here too) and sends a mask or a correction back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { answerMaskWorkerJob, type MaskWorkerRequest } from '../mask-worker-jobs.js';

parentPort!.on('message', (request: MaskWorkerRequest) => {
  // Jobs run as they come: a device has one round, so one job, out at a time.
  void answerMaskWorkerJob(request).then(({ reply, transfer }) => parentPort!.postMessage(reply, transfer));
});
