import { sha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';
import { allZero, encodeFields } from './bytes.js';
import { nativeCrypto, type NativeKey } from './native-crypto.js';

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

// The PKCS#8 DER wrapper of a raw X25519 private key (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
/** A 32-byte tweetnacl secret key as PKCS#8 DER: how node:crypto and WebCrypto (webcrypto-x25519.ts) import it. */
export function x25519Pkcs8(secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_PREFIX.length + secretKey.length);
  der.set(PKCS8_PREFIX);
  der.set(secretKey, PKCS8_PREFIX.length);
  return der;
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Unpadded base64url (RFC 4648 §5), for JWK: a public key is imported from JWK, about 4× cheaper than from DER. */
function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += B64URL[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}
/** Imported private keys, per secret-key array: a client agrees with k neighbours under the same key. */
const privateKeys = new WeakMap<Uint8Array, NativeKey>();

const LOW_ORDER = 'key agreement produced the zero point (low-order public key)';

/** The refusal of a low-order neighbour key, the same from every path: SecAggClient refuses a RangeError as BAD_ROSTER. */
export function lowOrderRefusal(): RangeError {
  return new RangeError(LOW_ORDER);
}

/** The shared point, or the refusal when it is the all-zero point of a low-order public key. */
export function checkedSharedPoint(shared: Uint8Array): Uint8Array {
  if (allZero(shared)) throw lowOrderRefusal();
  return shared;
}

/**
 * Raw X25519 shared point (RFC 7748, same bytes from both paths); rejects the all-zero result of a low-order public
 * key. Node does it natively (about 5× tweetnacl's cost measured here, and it is k agreements per stage per client);
 * browsers use tweetnacl here (their mask worker takes the points from WebCrypto: webcrypto-x25519.ts).
 */
export function sharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  if (nativeCrypto && secretKey.length === 32 && peerPublicKey.length === 32) {
    let privateKey = privateKeys.get(secretKey);
    if (!privateKey) {
      privateKey = nativeCrypto.createPrivateKey({ key: x25519Pkcs8(secretKey), format: 'der', type: 'pkcs8' });
      privateKeys.set(secretKey, privateKey);
    }
    let shared: Uint8Array;
    try {
      const publicKey = nativeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: base64url(peerPublicKey) }, format: 'jwk' });
      shared = Uint8Array.from(nativeCrypto.diffieHellman({ privateKey, publicKey }));
    } catch {
      // OpenSSL refuses to derive the all-zero point itself: the same refusal as below.
      throw lowOrderRefusal();
    }
    return checkedSharedPoint(shared);
  }
  return checkedSharedPoint(nacl.scalarMult(secretKey, peerPublicKey));
}

/**
 * Raw shared points of one secret key with each of `peerPublicKeys`, in order, with sharedSecret's bytes and
 * refusals: how a share or mask job that can wait agrees with its k neighbours (webcrypto-x25519.ts answers it
 * natively in browsers).
 */
export type SharedSecrets = (secretKey: Uint8Array, peerPublicKeys: readonly Uint8Array[]) => Promise<Uint8Array[]>;

/** SharedSecrets from sharedSecret, one after another on this thread (node:crypto in Node, tweetnacl in browsers). */
export const sharedSecrets: SharedSecrets = async (secretKey, peerPublicKeys) => peerPublicKeys.map((key) => sharedSecret(secretKey, key));

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
