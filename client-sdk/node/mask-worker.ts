/**
 * The worker thread behind WorkerMaskExpander: runs one mask job at a time (`expandMaskJob`: X25519 agreements
 * and AES-CTR mask expansions, in node:crypto here too) and sends the mask back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { expandMaskJob, type MaskJob } from '@fedrec/secagg';
import type { MaskWorkerReply } from './worker-mask-expander.js';

parentPort!.on('message', ({ id, job }: { id: number; job: MaskJob }) => {
  let reply: MaskWorkerReply;
  try {
    reply = { id, ok: true, expanded: expandMaskJob(job) };
  } catch (err) {
    reply = { id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.expanded.mask.buffer as ArrayBuffer] : []);
});
