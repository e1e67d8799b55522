import { checkedSharedPoint, lowOrderRefusal, sharedSecrets, x25519Pkcs8, type SharedSecrets } from './key-agreement.js';

/**
 * The part of WebCrypto's SubtleCrypto X25519 needs, typed here: secagg compiles without the DOM library or
 * @types/node (types/universal-globals.d.ts). Browsers' `crypto.subtle` and Node's `globalThis.crypto.subtle` fit.
 */
export interface X25519Subtle {
  importKey(
    format: 'pkcs8' | 'raw',
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: 'X25519',
    extractable: boolean,
    usages: Array<'deriveBits'>,
  ): Promise<unknown>;
  deriveBits(algorithm: { name: 'X25519'; public: unknown }, baseKey: unknown, length: 256): Promise<ArrayBuffer>;
}

// RFC 7748 §6.1: Alice's private key, Bob's public key and their shared point, the known answer checked once.
const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const RFC_PRIVATE = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const RFC_PUBLIC = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const RFC_SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');

/**
 * SharedSecrets from WebCrypto's native X25519, or undefined where `subtle` has none (or gives another answer to RFC
 * 7748's test vector): the caller then keeps `sharedSecrets`. Why: in a browser sharedSecret is tweetnacl, about 1
 * ms an agreement, and a share or mask job has k of them (k = 66 at 100 clients); Chromium answers the 66 in a few
 * ms. The private key is imported once per call (as PKCS#8, like node:crypto), the k public keys 'raw', and the k
 * derivations run concurrently. Same bytes and refusals as sharedSecret: WebCrypto refuses the all-zero point of a
 * low-order key itself, with its own error, mapped here to sharedSecret's RangeError; keys of the wrong size go to
 * sharedSecret, whose refusal they get. Check once (a worker's start), use for every job.
 */
export async function webCryptoX25519(subtle: X25519Subtle): Promise<SharedSecrets | undefined> {
  const agree = async (privateKey: unknown, peerPublicKey: Uint8Array): Promise<Uint8Array> => {
    try {
      const publicKey = await subtle.importKey('raw', new Uint8Array(peerPublicKey), 'X25519', true, []);
      return checkedSharedPoint(new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256)));
    } catch (err) {
      throw refusesPoint(err) ? lowOrderRefusal() : err;
    }
  };
  const importPrivate = (secretKey: Uint8Array) => subtle.importKey('pkcs8', x25519Pkcs8(secretKey), 'X25519', false, ['deriveBits']);
  try {
    const known = await agree(await importPrivate(RFC_PRIVATE), RFC_PUBLIC);
    if (known.some((b, i) => b !== RFC_SHARED[i])) return undefined;
  } catch {
    return undefined; // no X25519 in this WebCrypto (NotSupportedError)
  }
  return async (secretKey, peerPublicKeys) => {
    if (secretKey.length !== 32 || peerPublicKeys.some((key) => key.length !== 32)) return sharedSecrets(secretKey, peerPublicKeys);
    const privateKey = await importPrivate(secretKey);
    return Promise.all(peerPublicKeys.map((key) => agree(privateKey, key)));
  };
}

/**
 * WebCrypto's refusal of a peer's point: OperationError for the all-zero result (Chromium 150 and Node 20 throw it, with
 * no message), DataError should an implementation refuse such a key already at import.
 */
function refusesPoint(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'OperationError' || name === 'DataError';
}
