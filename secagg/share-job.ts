import { SHARE_CIPHERTEXT_LENGTH, SHARE_LENGTH, SHARE_NONCE_LENGTH } from '@fedrec/protocol/secagg-sizes.js';
import { deriveKey, sharedSecrets, type SharedSecrets } from './key-agreement.js';
import { splitSecret } from './shamir.js';
import { sealShares, type SharePair } from './share-cipher.js';

/**
 * A client's stage-1 share work, as data: the secrets to share (self-mask seed and mask secret key), the cipher
 * secret key that encrypts them, and the neighbours that get one sealed pair each. Why a separate step: it is k
 * X25519 agreements, two Shamir splits into k + 1 shares and k seals, which in a browser page (pure-JS X25519) is a
 * long task of 60–170 ms at k = 66, and it runs while the device trains on its main thread; as data it can run on
 * the device's mask worker (client-sdk/node, client-sdk/browser) and come back through `SecAggClient.shareKeysWith`.
 * The roster checks and the drawing of the secrets stay with the client. It holds the round's secrets: it must
 * stay on the device.
 */
export interface ShareJob {
  roundId: number;
  clientId: string;
  cipherSecretKey: Uint8Array;
  selfMaskSeed: Uint8Array;
  maskSecretKey: Uint8Array;
  /** Shares needed to rebuild a secret; the group is this client and `peers` (k + 1 shares each). */
  threshold: number;
  /** Neighbours in the graph's order: peer i gets share i + 1 of each secret, sealed under the key agreed with it. */
  peers: Array<{ clientId: string; cipherPublicKey: Uint8Array }>;
}

export interface SharedKeys {
  /** One sealed share pair per `job.peers`, same order. */
  encryptedShares: Array<{ to: string; nonce: Uint8Array; ciphertext: Uint8Array }>;
  /** The share-encryption key agreed with each of `job.peers`, same order (it opens their forwarded shares in stage 2). */
  shareKeys: Uint8Array[];
  /** This client's own share of each secret (share 0). */
  ownShares: SharePair;
}

/**
 * Runs a share job: throws RangeError on a neighbour key X25519 refuses (low order). The k agreements come from
 * `agree` (default: sharedSecret on this thread; the browser's mask worker passes WebCrypto's, webcrypto-x25519.ts).
 */
export async function runShareJob(job: ShareJob, agree: SharedSecrets = sharedSecrets): Promise<SharedKeys> {
  const points = await agree(
    job.cipherSecretKey,
    job.peers.map((peer) => peer.cipherPublicKey),
  );
  const groupSize = job.peers.length + 1;
  const seedShares = await splitSecret(job.selfMaskSeed, groupSize, job.threshold);
  const keyShares = await splitSecret(job.maskSecretKey, groupSize, job.threshold);
  const shareKeys = job.peers.map(({ clientId: peerId }, i) => deriveKey('share-encryption', job.roundId, job.clientId, peerId, points[i]!));
  const encryptedShares = job.peers.map(({ clientId: peerId }, i) => {
    const sealed = sealShares(
      shareKeys[i]!,
      { roundId: job.roundId, from: job.clientId, to: peerId },
      { seedShare: seedShares[i + 1]!, keyShare: keyShares[i + 1]! },
    );
    return { to: peerId, ...sealed };
  });
  return { encryptedShares, shareKeys, ownShares: { seedShare: seedShares[0]!, keyShare: keyShares[0]! } };
}

/** Why a result (from another thread) does not fit its job, or undefined when it does: sizes and order, not contents. */
export function sharedKeysMisfit(job: ShareJob, shared: SharedKeys): string | undefined {
  const k = job.peers.length;
  if (!Array.isArray(shared.encryptedShares) || !Array.isArray(shared.shareKeys) || shared.encryptedShares.length !== k || shared.shareKeys.length !== k) {
    return `share result for ${shared.encryptedShares?.length} and ${shared.shareKeys?.length} peers, job has ${k}`;
  }
  const bytes = (b: unknown, n: number) => b instanceof Uint8Array && b.length === n;
  const { seedShare, keyShare } = shared.ownShares ?? {};
  if (!bytes(seedShare, SHARE_LENGTH) || !bytes(keyShare, SHARE_LENGTH)) return 'share result without this client’s own share pair';
  for (let i = 0; i < k; i++) {
    const sealed = shared.encryptedShares[i]!;
    if (sealed.to !== job.peers[i]!.clientId) return `share result's pair ${i} goes to ${sealed.to}, job's peer ${i} is ${job.peers[i]!.clientId}`;
    if (!bytes(sealed.nonce, SHARE_NONCE_LENGTH) || !bytes(sealed.ciphertext, SHARE_CIPHERTEXT_LENGTH))
      return `share result's pair for ${sealed.to} is malformed`;
    if (!bytes(shared.shareKeys[i], 32)) return `share result's key for ${sealed.to} is malformed`;
  }
  return undefined;
}
