import { sha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';
import { allZero, encodeFields } from './bytes.js';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh X25519 key pair (tweetnacl, CSPRNG from the platform). */
export function generateKeyPair(): KeyPair {
  return nacl.box.keyPair();
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return nacl.scalarMult.base(secretKey);
}

/** Raw X25519 shared point; rejects the all-zero result of a low-order public key. */
export function sharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  const shared = nacl.scalarMult(secretKey, peerPublicKey);
  if (allZero(shared)) throw new RangeError('key agreement produced the zero point (low-order public key)');
  return shared;
}

/** What a derived 32-byte key is for: separate domains so one agreement never yields the same key twice. */
export type KeyPurpose = 'share-encryption' | 'pairwise-mask';

const DOMAIN = 'fedrec/secagg/v1';

/** KDF: SHA-256 over (domain, purpose, round, lower id, higher id, shared point): symmetric in the two ids. */
export function deriveKey(purpose: KeyPurpose, roundId: number, idA: string, idB: string, shared: Uint8Array): Uint8Array {
  const [lo, hi] = idA < idB ? [idA, idB] : [idB, idA];
  return sha256(encodeFields([DOMAIN, purpose, roundId, lo, hi, shared]));
}

/** Agreement then derivation in one step. */
export function agreeKey(purpose: KeyPurpose, roundId: number, selfId: string, peerId: string, secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  return deriveKey(purpose, roundId, selfId, peerId, sharedSecret(secretKey, peerPublicKey));
}

/** Sign of the pairwise mask client `self` adds for `peer`: the lower id adds, the higher subtracts, so pairs cancel. */
export function pairwiseSign(self: string, peer: string): 1 | -1 {
  return self < peer ? 1 : -1;
}
