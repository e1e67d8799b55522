import { createPublicKey, verify } from 'node:crypto';
import { fromHex, handshakeProofMessage, signatureHexSchema } from '@fedrec/protocol';
import type { Proof, ProofContext } from '@fedrec/protocol';

/**
 * Handshake proofs checked with node:crypto's Ed25519 (OpenSSL) instead of tweetnacl's JavaScript.
 *
 * Why: the coordinator verifies one signature per connection on its event loop; tweetnacl took ~10 ms
 * each (a CPU profile of 1,000 connecting bench devices: 9.9 s of the main thread in
 * `nacl.sign.detached.verify`); in a side check at load 18.6, 0.74 ms with OpenSSL against 31.0 ms (42x). Keys and signatures stay tweetnacl's format (raw
 * 32-byte Ed25519 keys, 64-byte detached signatures, RFC 8032): devices still sign with tweetnacl.
 *
 * The two agree on every signature an honest signer makes (tested in
 * test/coordinator/signature-verifier.test.ts, including malformed and low-order keys). OpenSSL is
 * stricter in one way: it refuses a non-canonical S (S >= L), which tweetnacl accepts as the same
 * signature plus a multiple of the group order. tweetnacl's signer never produces one, so refusing it
 * only closes a malleability that a proof never needed.
 */

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** True when `signatureHex` is `publicKeyHex`'s Ed25519 signature of `message`; false for anything malformed. */
export function verifyEd25519Hex(message: Uint8Array, signatureHex: string, publicKeyHex: string): boolean {
  // The same shape checks as the protocol's tweetnacl path (protocol/identity.ts verifyHex).
  if (!signatureHexSchema.safeParse(signatureHex).success || !/^[0-9a-fA-F]{64}$/.test(publicKeyHex)) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, fromHex(publicKeyHex)]), format: 'der', type: 'spki' });
    return verify(null, message, key, fromHex(signatureHex));
  } catch {
    // A key OpenSSL cannot decode (not a curve point) proves nothing.
    return false;
  }
}

/** The coordinator's check of a device's answer to its challenge (protocol/identity.ts defines the bytes). */
export function verifyHandshakeProofNative(publicKeyHex: string, proof: Proof, c: ProofContext): boolean {
  return verifyEd25519Hex(handshakeProofMessage(c), proof.signature, publicKeyHex);
}
