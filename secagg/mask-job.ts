import { agreeKey, deriveKey, pairwiseSign, sharedSecrets, type SharedSecrets } from './key-agreement.js';
import { addMask } from './prg.js';
import { scratchWordSum, WordSum } from './word-sum.js';

/**
 * A client's stage-2 mask work, as data: the self-mask seed, its mask secret key and the neighbours that survived
 * stage 1. Why a separate step: it needs no input, and it is most of a client's compute (k X25519 agreements and
 * k + 1 mask expansions), so a device can run it on another thread while it trains (client-sdk/node: a worker
 * thread) and hand the result back with `SecAggClient.receiveSharesWith`. It holds the round's secrets: it must
 * stay on the device.
 */
export interface MaskJob {
  roundId: number;
  clientId: string;
  vectorLength: number;
  selfMaskSeed: Uint8Array;
  maskSecretKey: Uint8Array;
  /** Neighbours masked with, in the order `ExpandedMask.pairwiseSeeds` answers them. */
  peers: Array<{ clientId: string; maskPublicKey: Uint8Array }>;
}

export interface ExpandedMask {
  /** Self mask ± every pairwise mask, modulo 2^32. */
  mask: Uint32Array;
  /** The pairwise seed agreed with each of `job.peers`, same order (kept for the unmask correction). */
  pairwiseSeeds: Uint8Array[];
}

/** Runs a mask job: throws RangeError on a neighbour key X25519 refuses (low order). */
export function expandMaskJob(job: MaskJob): ExpandedMask {
  // k + 1 masks summed in the thread's scratch sum (each keystream chunk added as it leaves the cipher), copied out once.
  const sum = scratchWordSum(job.vectorLength);
  addMask(sum, job.selfMaskSeed, 1);
  const pairwiseSeeds = job.peers.map(({ clientId, maskPublicKey }) => {
    const seed = agreeKey('pairwise-mask', job.roundId, job.clientId, clientId, job.maskSecretKey, maskPublicKey);
    addMask(sum, seed, pairwiseSign(job.clientId, clientId));
    return seed;
  });
  return { mask: sum.toUint32Array(), pairwiseSeeds };
}

/**
 * A seed's whole mask keystream from an asynchronous cipher: `bytes` bytes of AES-256-CTR with the seed as key and
 * the all-zero initial counter block, the whole 128-bit block incremented (prg.ts's PRG). Browsers have it natively
 * in WebCrypto (`crypto.subtle`, AES-CTR with `length: 128`), only asynchronously.
 */
export type MaskKeystream = (seed: Uint8Array, bytes: number) => Promise<Uint8Array>;

/**
 * expandMaskJob with the expansions from `keystream` and the k agreements from `agree` (default: sharedSecret on this
 * thread): the same mask and seeds. Why: a browser's synchronous AES is pure JS (@noble/ciphers, about 300 ms for a
 * 100-client round's 67 masks of 100k words in Chromium), WebCrypto's native one about 17x faster but asynchronous,
 * which a worker can wait on (client-sdk/browser/mask-worker.ts); so is WebCrypto's X25519 (webcrypto-x25519.ts). The
 * sum is the job's own (a sum borrowed from the thread would be shared by jobs interleaved at the awaits); one
 * keystream is held at a time.
 */
export async function expandMaskJobWith(job: MaskJob, keystream: MaskKeystream, agree: SharedSecrets = sharedSecrets): Promise<ExpandedMask> {
  const points = await agree(
    job.maskSecretKey,
    job.peers.map((peer) => peer.maskPublicKey),
  );
  const pairwiseSeeds = job.peers.map(({ clientId }, i) => deriveKey('pairwise-mask', job.roundId, job.clientId, clientId, points[i]!));
  const sum = new WordSum(job.vectorLength);
  const bytes = job.vectorLength * 4;
  sum.addBytes(await keystream(job.selfMaskSeed, bytes), 1);
  for (const [i, { clientId }] of job.peers.entries()) sum.addBytes(await keystream(pairwiseSeeds[i]!, bytes), pairwiseSign(job.clientId, clientId));
  return { mask: sum.toUint32Array(), pairwiseSeeds };
}
