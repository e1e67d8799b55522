import { sha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';
import { constantTimeEqual, encodeFields } from './bytes.js';
import { SHARE_LENGTH, SHARE_NONCE_LENGTH } from '@fedrec/protocol/secagg-sizes.js';

/** Who a pair of shares goes from and to, in which round: opening it under any other binding fails. */
export interface ShareBinding {
  roundId: number;
  from: string;
  to: string;
}

/** The two shares one client holds for a peer: of its self-mask seed and of its mask secret key. */
const BINDING_LENGTH = 32;

export interface SharePair {
  seedShare: Uint8Array;
  keyShare: Uint8Array;
}

function bindingDigest(b: ShareBinding): Uint8Array {
  return sha256(encodeFields(['fedrec/secagg/v1/shares', b.roundId, b.from, b.to]));
}

/** secretbox(binding digest ‖ seed share ‖ key share) under the pairwise share-encryption key. */
export function sealShares(key: Uint8Array, binding: ShareBinding, pair: SharePair): { nonce: Uint8Array; ciphertext: Uint8Array } {
  if (pair.seedShare.length !== SHARE_LENGTH || pair.keyShare.length !== SHARE_LENGTH) throw new RangeError('share of unexpected length');
  const plain = new Uint8Array(BINDING_LENGTH + 2 * SHARE_LENGTH);
  plain.set(bindingDigest(binding), 0);
  plain.set(pair.seedShare, BINDING_LENGTH);
  plain.set(pair.keyShare, BINDING_LENGTH + SHARE_LENGTH);
  const nonce = nacl.randomBytes(SHARE_NONCE_LENGTH);
  return { nonce, ciphertext: nacl.secretbox(plain, nonce, key) };
}

/** Opens and checks the binding; null when altered, encrypted under another key, or bound to another pair/round. */
export function openShares(key: Uint8Array, binding: ShareBinding, nonce: Uint8Array, ciphertext: Uint8Array): SharePair | null {
  const plain = nacl.secretbox.open(ciphertext, nonce, key);
  if (!plain || plain.length !== BINDING_LENGTH + 2 * SHARE_LENGTH) return null;
  if (!constantTimeEqual(plain.subarray(0, BINDING_LENGTH), bindingDigest(binding))) return null;
  return {
    seedShare: plain.slice(BINDING_LENGTH, BINDING_LENGTH + SHARE_LENGTH),
    keyShare: plain.slice(BINDING_LENGTH + SHARE_LENGTH),
  };
}
