import nacl from 'tweetnacl';
import { z } from 'zod';
import { binarySchema } from './binary.js';
import { toHex } from './envelope.js';

/**
 * Per-device identity (ed25519, tweetnacl sign): a device proves it holds the key its client id is
 * bound to by signing a fresh coordinator nonce, and an app backend may vouch for a device with an
 * enrolment token. Keys and signatures travel as lowercase hex, in the handshake and in files.
 */
export const SIGN_PUBLIC_KEY_BYTES = nacl.sign.publicKeyLength;
export const SIGNATURE_BYTES = nacl.sign.signatureLength;
export const NONCE_BYTES = 32;

const hexOf = (bytes: number) => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
/**
 * The Ed25519 points of small order (1, 2, 4 and 8) as encoded keys: libsodium's blocklist
 * (ge25519_has_small_order), compared with the top (sign) bit cleared, so their non-canonical encodings match too.
 * Under such a key some signatures verify for every message (tweetnacl and OpenSSL alike:
 * test/coordinator/signature-verifier.test.ts), so a proof of possession under it proves nothing.
 */
const SMALL_ORDER_KEYS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

/** True for an Ed25519 key (64 hex digits) of small order, in any encoding (see SMALL_ORDER_KEYS). */
export function isSmallOrderSignKey(publicKeyHex: string): boolean {
  const key = publicKeyHex.toLowerCase();
  const last = (parseInt(key.slice(62, 64), 16) & 0x7f).toString(16).padStart(2, '0');
  const canonical = key.slice(0, 62) + last;
  return SMALL_ORDER_KEYS.includes(canonical);
}

export const signPublicKeyHexSchema = z
  .string()
  .regex(hexOf(SIGN_PUBLIC_KEY_BYTES), `an ed25519 public key: ${SIGN_PUBLIC_KEY_BYTES * 2} lowercase hex digits`)
  .refine((key) => !isSmallOrderSignKey(key), 'an ed25519 public key of small order: signatures under it prove nothing');
export const signatureHexSchema = z.string().regex(hexOf(SIGNATURE_BYTES), `a signature: ${SIGNATURE_BYTES * 2} lowercase hex digits`);

export interface SignKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateSignKeyPair(): SignKeyPair {
  return nacl.sign.keyPair();
}

export function signKeyPairFromSecretKey(secretKey: Uint8Array): SignKeyPair {
  return nacl.sign.keyPair.fromSecretKey(secretKey);
}

/** Decodes lowercase or uppercase hex; throws on anything else. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('not a hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** What the coordinator sends on each new connection: a one-time nonce and who it is (the client signs both). */
export const challengeSchema = z.object({
  nonce: binarySchema.refine((b) => b.length === NONCE_BYTES, `nonce must be ${NONCE_BYTES} bytes`),
  coordinatorPublicKey: binarySchema.refine((b) => b.length === 32, 'public key must be 32 bytes'),
  fingerprint: z.string().max(200),
  protocolVersion: z.number().int(),
});
export type Challenge = z.input<typeof challengeSchema>;
export type ParsedChallenge = z.output<typeof challengeSchema>;

/** The client's answer: its signature over handshakeProofMessage(). */
export const proofSchema = z.object({ signature: signatureHexSchema });
export type Proof = z.infer<typeof proofSchema>;

export interface ProofContext {
  nonce: Uint8Array;
  clientId: string;
  /** The coordinator's key fingerprint: a proof made for one coordinator is worthless at another. */
  fingerprint: string;
  protocolVersion: number;
}

const encoder = new TextEncoder();

/** The bytes a device signs: domain tag, nonce, client id, coordinator fingerprint, protocol version. */
export function handshakeProofMessage(c: ProofContext): Uint8Array {
  return encoder.encode(`fedrec-handshake-proof-v1\n${toHex(c.nonce)}\n${c.clientId}\n${c.fingerprint}\n${c.protocolVersion}`);
}

export function signHandshakeProof(secretKey: Uint8Array, c: ProofContext): Proof {
  return { signature: toHex(nacl.sign.detached(handshakeProofMessage(c), secretKey)) };
}

export function verifyHandshakeProof(publicKeyHex: string, proof: Proof, c: ProofContext): boolean {
  return verifyHex(handshakeProofMessage(c), proof.signature, publicKeyHex);
}

/**
 * The bytes an app backend signs to vouch for a device (its client id bound to its public key).
 * The backend keeps the secret key; the coordinator is given the public one (`--enrolment-key`).
 */
export function enrolmentMessage(clientId: string, devicePublicKeyHex: string): Uint8Array {
  return encoder.encode(`fedrec-enrolment-v1\n${clientId}\n${devicePublicKeyHex}`);
}

/** An enrolment token (hex signature) for `clientId` holding `devicePublicKeyHex`: run by the app's backend. */
export function signEnrolment(backendSecretKey: Uint8Array, clientId: string, devicePublicKeyHex: string): string {
  return toHex(nacl.sign.detached(enrolmentMessage(clientId, devicePublicKeyHex), backendSecretKey));
}

export function verifyEnrolment(backendPublicKeyHex: string, token: string, clientId: string, devicePublicKeyHex: string): boolean {
  return verifyHex(enrolmentMessage(clientId, devicePublicKeyHex), token, backendPublicKeyHex);
}

function verifyHex(message: Uint8Array, signatureHex: string, publicKeyHex: string): boolean {
  if (!signatureHexSchema.safeParse(signatureHex).success || !/^[0-9a-fA-F]{64}$/.test(publicKeyHex)) return false;
  return nacl.sign.detached.verify(message, fromHex(signatureHex), fromHex(publicKeyHex));
}
