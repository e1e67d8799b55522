import { uint32ToBytes } from './bytes.js';
import type { MaskKeystream } from './mask-job.js';
import { addMask } from './prg.js';
import { scratchWordSum, WordSum } from './word-sum.js';

/**
 * A client's stage-3 correction work, as data: the pairwise masks it shared with neighbours that dropped after
 * stage 1, each a seed and the sign that cancels it. Why a separate step: it is one mask expansion per dropped peer
 * (about 20 of 100k words at 30% dropout and k = 66), which in a browser page is pure-JS AES (75–80 ms in Chromium
 * 150 at 100k words, bench/secagg/mask-worker-page.ts, on the round's critical path: the coordinator waits for every
 * survivor's unmask reply), so a device runs it on its mask worker (client-sdk/node, client-sdk/browser) and hands
 * the bytes back with `SecAggClient.unmaskWith`. Every check of the unmask request stays with the client. The seeds
 * are the round's secrets: the job must stay on the device.
 */
export interface CorrectionJob {
  vectorLength: number;
  /** One entry per dropped peer: the pairwise seed agreed with it and the sign that cancels this client's mask with it. */
  masks: Array<{ seed: Uint8Array; sign: 1 | -1 }>;
}

/** Runs a correction job on this thread: Σ sign · PRG(seed), modulo 2^32, as little-endian bytes (the reply's `correction`). */
export function runCorrectionJob(job: CorrectionJob): Uint8Array {
  const sum = scratchWordSum(job.vectorLength);
  for (const { seed, sign } of job.masks) addMask(sum, seed, sign);
  return uint32ToBytes(sum.toUint32Array());
}

/**
 * runCorrectionJob with the expansions from `keystream` (the browser worker's WebCrypto AES-CTR, as expandMaskJobWith
 * takes them): the same bytes. The sum is the job's own (the thread's scratch sum could be shared by jobs interleaved
 * at the awaits); one keystream is held at a time.
 */
export async function runCorrectionJobWith(job: CorrectionJob, keystream: MaskKeystream): Promise<Uint8Array> {
  const sum = new WordSum(job.vectorLength);
  for (const { seed, sign } of job.masks) sum.addBytes(await keystream(seed, job.vectorLength * 4), sign);
  return uint32ToBytes(sum.toUint32Array());
}
