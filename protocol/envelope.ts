import nacl from 'tweetnacl';
import { z } from 'zod';
import { binarySchema } from './binary.js';
import { envelopeCipher, type EnvelopeCipher, type EnvelopeKey } from './envelope-cipher.js';
import { ProtocolError } from './errors.js';

export { envelopeCipher, type EnvelopeCipher, type EnvelopeCipherName, type EnvelopeKey } from './envelope-cipher.js';

/** What a sealed envelope is bound to: opening it for any other round, client, task or kind fails. */
export interface EnvelopeBinding {
  roundId: number;
  clientId: string;
  taskId: string;
  modelVersion: number;
  /** What the envelope carries ('fit' when absent), so a fit result cannot pass as another kind of message. */
  kind?: string;
}

/**
 * The bulk cipher. AES-256-GCM, because it is the one AEAD that runs natively on both sides: node:crypto
 * and WebCrypto in every browser (WebCrypto has no ChaCha20-Poly1305), and with AES-NI it runs at GB/s,
 * where tweetnacl's XSalsa20-Poly1305 in JavaScript ran at about 28 MB/s. tweetnacl stays for the X25519
 * keys (and signatures elsewhere); the agreed secret only feeds HKDF-SHA256. Which native implementation
 * runs is envelope-cipher.ts's choice (node:crypto in Node, WebCrypto in browsers).
 */
export const ENVELOPE_AEAD = 'aes-256-gcm' as const;
/** AES-GCM's 96-bit nonce, random per message (2^-32 collision risk only after ~2^32 messages of one session). */
export const ENVELOPE_NONCE_BYTES = 12;
export const ENVELOPE_TAG_BYTES = 16;
/** HKDF info prefix: a key derived here is never valid for another protocol or cipher. */
const KEY_CONTEXT = 'fedrec/envelope/3 aes-256-gcm';

export interface SealedEnvelope {
  aead: typeof ENVELOPE_AEAD;
  /** The sender's X25519 key: fresh per message with seal(), per session with an EnvelopeSealer. */
  senderPublicKey: Uint8Array;
  nonce: Uint8Array;
  /** AES-256-GCM ciphertext with its 16-byte tag at the end. */
  ciphertext: Uint8Array;
}

export const sealedEnvelopeSchema = z.object({
  aead: z.literal(ENVELOPE_AEAD),
  senderPublicKey: binarySchema.refine((b) => b.length === nacl.box.publicKeyLength, 'sender key must be 32 bytes'),
  nonce: binarySchema.refine((b) => b.length === ENVELOPE_NONCE_BYTES, `nonce must be ${ENVELOPE_NONCE_BYTES} bytes`),
  ciphertext: binarySchema.refine((b) => b.length >= ENVELOPE_TAG_BYTES + 8, 'ciphertext too short'),
});

/**
 * True for an envelope in protocol 2's format (a tweetnacl box: no `aead` field, a 24-byte nonce), which
 * this version refuses with PROTOCOL_VERSION_MISMATCH rather than a generic INVALID_PAYLOAD.
 */
export function isLegacyEnvelope(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const nonce = v['nonce'];
  const nonceLength = nonce instanceof Uint8Array ? nonce.length : nonce instanceof ArrayBuffer ? nonce.byteLength : -1;
  return v['aead'] === undefined && nonceLength === nacl.box.nonceLength;
}

/** Throws PROTOCOL_VERSION_MISMATCH for a legacy envelope (see isLegacyEnvelope). */
export function refuseLegacyEnvelope(value: unknown): void {
  if (isLegacyEnvelope(value)) {
    throw new ProtocolError('PROTOCOL_VERSION_MISMATCH', 'envelope is a tweetnacl box (protocol 2); this coordinator takes AES-256-GCM envelopes (protocol 3)');
  }
}

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  return nacl.box.keyPair();
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b];
  return s;
}

/** A short, stable name for a public key that clients can pin: "sha512:" + 32 hex digits. */
export function fingerprint(publicKey: Uint8Array): string {
  return `sha512:${toHex(nacl.hash(publicKey).subarray(0, 16))}`;
}

/** The additional data: the binding, authenticated (not encrypted) with the ciphertext. */
export function bindingBytes(b: EnvelopeBinding): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(['fedrec/envelope/3', b.roundId, b.clientId, b.taskId, b.modelVersion, b.kind ?? 'fit']));
}

/**
 * The session key: HKDF-SHA256 over the X25519 agreement (nacl.box.before: X25519 then HSalsa20, as
 * tweetnacl's box uses it), salt = sender key ‖ recipient key, info = the context string. `cipher` picks
 * the implementation (default: node:crypto in Node, WebCrypto elsewhere; both give the same bytes).
 */
export function deriveEnvelopeKey(
  sharedSecret: Uint8Array,
  senderPublicKey: Uint8Array,
  recipientPublicKey: Uint8Array,
  cipher: EnvelopeCipher = envelopeCipher(),
): Promise<EnvelopeKey> {
  const salt = new Uint8Array(64);
  salt.set(senderPublicKey, 0);
  salt.set(recipientPublicKey, 32);
  return cipher.deriveKey(sharedSecret, salt, new TextEncoder().encode(KEY_CONTEXT));
}

/** Seals with an agreed key and a given nonce (exported for test vectors; callers use EnvelopeSealer). */
export function sealWithKey(key: EnvelopeKey, nonce: Uint8Array, plaintext: Uint8Array, binding: EnvelopeBinding, into?: Uint8Array): Promise<Uint8Array> {
  return envelopeCipher(key.cipher).encrypt(key, nonce, bindingBytes(binding), plaintext, into);
}

/** Opens with an agreed key; ENVELOPE_REJECTED when altered, sealed to another key, or bound elsewhere. */
export async function openWithKey(key: EnvelopeKey, envelope: SealedEnvelope, expected: EnvelopeBinding): Promise<Uint8Array> {
  try {
    return await envelopeCipher(key.cipher).decrypt(key, envelope.nonce, bindingBytes(expected), envelope.ciphertext);
  } catch {
    // GCM cannot tell a flipped bit from a wrong key or a binding for another round, client or task: all are one refusal.
    throw new ProtocolError('ENVELOPE_REJECTED', 'envelope failed authentication (altered, sealed to another key, or bound to another round, client or task)');
  }
}

/** Encrypts plaintext to the recipient's public key with a one-off sender key, bound to round, client and task. */
export function seal(plaintext: Uint8Array, binding: EnvelopeBinding, recipientPublicKey: Uint8Array): Promise<SealedEnvelope> {
  return new EnvelopeSealer(recipientPublicKey).seal(plaintext, binding);
}

/**
 * Decrypts an envelope and checks it was sealed for `expected`.
 * Throws ENVELOPE_REJECTED when it was altered, sealed to another key, or bound elsewhere.
 */
export function open(envelope: SealedEnvelope, expected: EnvelopeBinding, recipientSecretKey: Uint8Array): Promise<Uint8Array> {
  return new EnvelopeOpener(recipientSecretKey, 1).open(envelope, expected);
}

/**
 * Seals a session's messages to one recipient with one sender key pair: the X25519 agreement (milliseconds
 * in tweetnacl) and HKDF run once per session; each message costs one native AES-GCM pass and a fresh nonce.
 */
export class EnvelopeSealer {
  private readonly sender: KeyPair;
  private readonly key: Promise<EnvelopeKey>;

  constructor(recipientPublicKey: Uint8Array, sender: KeyPair = nacl.box.keyPair(), cipher: EnvelopeCipher = envelopeCipher()) {
    this.sender = sender;
    this.key = deriveEnvelopeKey(nacl.box.before(recipientPublicKey, sender.secretKey), sender.publicKey, recipientPublicKey, cipher);
  }

  /**
   * `into` (plaintext.length + ENVELOPE_TAG_BYTES bytes, possibly the plaintext's own memory from its first
   * byte) becomes the envelope's ciphertext instead of a new buffer: a caller that seals large messages
   * one after another and no longer needs the previous envelope saves the first touch of fresh pages.
   */
  async seal(plaintext: Uint8Array, binding: EnvelopeBinding, into?: Uint8Array): Promise<SealedEnvelope> {
    const nonce = nacl.randomBytes(ENVELOPE_NONCE_BYTES);
    const ciphertext = await sealWithKey(await this.key, nonce, plaintext, binding, into);
    return { aead: ENVELOPE_AEAD, senderPublicKey: this.sender.publicKey, nonce, ciphertext };
  }

  /**
   * Seals `plaintext` in its own memory when its ArrayBuffer holds ENVELOPE_TAG_BYTES free bytes right after
   * it (encodeUpdatePayload's `spare`), else into a new buffer. The caller gives the plaintext up: it is
   * overwritten by the ciphertext. Why: a 4 MiB envelope in a new buffer is ~1,024 fresh pages, whose first
   * touch cost up to 10x the cipher on this VM; the plaintext's pages were just written by the encoder, and a
   * buffer reused across messages could still be queued in the transport when the next seal overwrites it.
   */
  sealInPlace(plaintext: Uint8Array, binding: EnvelopeBinding): Promise<SealedEnvelope> {
    const end = plaintext.byteOffset + plaintext.length;
    if (plaintext.buffer.byteLength - end < ENVELOPE_TAG_BYTES) return this.seal(plaintext, binding);
    return this.seal(plaintext, binding, new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length + ENVELOPE_TAG_BYTES));
  }
}

/**
 * Opens envelopes with the recipient's secret key, remembering the agreed key of recent senders
 * (bounded, least recently used out first) so a session costs one X25519 agreement and one HKDF.
 */
export class EnvelopeOpener {
  private readonly keys = new Map<string, Promise<EnvelopeKey>>();
  private readonly publicKey: Uint8Array;

  constructor(
    private readonly secretKey: Uint8Array,
    private readonly maxSenders = 8192,
    private readonly cipher: EnvelopeCipher = envelopeCipher(),
  ) {
    this.publicKey = nacl.box.keyPair.fromSecretKey(secretKey).publicKey;
  }

  async open(envelope: SealedEnvelope, expected: EnvelopeBinding): Promise<Uint8Array> {
    return openWithKey(await this.keyFor(envelope.senderPublicKey), envelope, expected);
  }

  /** How many sender keys are cached (the X25519 agreements saved). */
  get cachedSenders(): number {
    return this.keys.size;
  }

  private keyFor(senderPublicKey: Uint8Array): Promise<EnvelopeKey> {
    const id = toHex(senderPublicKey);
    let key = this.keys.get(id);
    if (key) {
      this.keys.delete(id);
    } else {
      key = deriveEnvelopeKey(nacl.box.before(senderPublicKey, this.secretKey), senderPublicKey, this.publicKey, this.cipher);
      if (this.keys.size >= this.maxSenders) this.keys.delete(this.keys.keys().next().value!);
    }
    this.keys.set(id, key);
    return key;
  }
}
