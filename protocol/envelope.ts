import nacl from 'tweetnacl';
import { z } from 'zod';
import { binarySchema } from './binary.js';
import { ProtocolError } from './errors.js';

/** What a sealed envelope is bound to: opening it for any other round, client or task fails. */
export interface EnvelopeBinding {
  roundId: number;
  clientId: string;
  taskId: string;
  modelVersion: number;
}

export interface SealedEnvelope {
  /** The sender's X25519 key: fresh per message with seal(), per session with an EnvelopeSealer. */
  senderPublicKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export const sealedEnvelopeSchema = z.object({
  senderPublicKey: binarySchema.refine((b) => b.length === nacl.box.publicKeyLength, 'sender key must be 32 bytes'),
  nonce: binarySchema.refine((b) => b.length === nacl.box.nonceLength, 'nonce must be 24 bytes'),
  ciphertext: binarySchema.refine((b) => b.length >= nacl.box.overheadLength + 64, 'ciphertext too short'),
});

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

function bindingDigest(b: EnvelopeBinding): Uint8Array {
  const canonical = JSON.stringify([b.roundId, b.clientId, b.taskId, b.modelVersion]);
  return nacl.hash(new TextEncoder().encode(canonical));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function bindPlaintext(plaintext: Uint8Array, binding: EnvelopeBinding): Uint8Array {
  const digest = bindingDigest(binding);
  const message = new Uint8Array(digest.length + plaintext.length);
  message.set(digest, 0);
  message.set(plaintext, digest.length);
  return message;
}

function checkBinding(message: Uint8Array | null, expected: EnvelopeBinding): Uint8Array {
  if (!message) throw new ProtocolError('ENVELOPE_REJECTED', 'envelope failed authentication (altered, or sealed to another key)');
  const digest = bindingDigest(expected);
  if (message.length < digest.length || !constantTimeEqual(message.subarray(0, digest.length), digest)) {
    throw new ProtocolError('ENVELOPE_REJECTED', 'envelope is bound to another round, client or task (replayed or swapped)');
  }
  return message.subarray(digest.length);
}

/** Encrypts plaintext to the recipient's public key with a one-off sender key, bound to round, client and task. */
export function seal(plaintext: Uint8Array, binding: EnvelopeBinding, recipientPublicKey: Uint8Array): SealedEnvelope {
  return new EnvelopeSealer(recipientPublicKey).seal(plaintext, binding);
}

/**
 * Decrypts an envelope and checks it was sealed for `expected`.
 * Throws ENVELOPE_REJECTED when it was altered, sealed to another key, or bound elsewhere.
 */
export function open(envelope: SealedEnvelope, expected: EnvelopeBinding, recipientSecretKey: Uint8Array): Uint8Array {
  const message = nacl.box.open(envelope.ciphertext, envelope.nonce, envelope.senderPublicKey, recipientSecretKey);
  return checkBinding(message, expected);
}

/**
 * Seals a session's messages to one recipient with one sender key pair, so the X25519
 * agreement (milliseconds in tweetnacl) happens once per session instead of per message.
 * The same nacl box on the wire; a fresh random nonce per message.
 */
export class EnvelopeSealer {
  private readonly sender: KeyPair;
  private readonly sharedKey: Uint8Array;

  constructor(recipientPublicKey: Uint8Array, sender: KeyPair = nacl.box.keyPair()) {
    this.sender = sender;
    this.sharedKey = nacl.box.before(recipientPublicKey, sender.secretKey);
  }

  seal(plaintext: Uint8Array, binding: EnvelopeBinding): SealedEnvelope {
    const nonce = nacl.randomBytes(nacl.box.nonceLength);
    const ciphertext = nacl.box.after(bindPlaintext(plaintext, binding), nonce, this.sharedKey);
    return { senderPublicKey: this.sender.publicKey, nonce, ciphertext };
  }
}

/**
 * Opens envelopes with the recipient's secret key, remembering the agreed key of recent
 * senders (bounded, least recently used out first) so a session costs one X25519 agreement.
 */
export class EnvelopeOpener {
  private readonly sharedKeys = new Map<string, Uint8Array>();

  constructor(
    private readonly secretKey: Uint8Array,
    private readonly maxSenders = 8192,
  ) {}

  open(envelope: SealedEnvelope, expected: EnvelopeBinding): Uint8Array {
    const message = nacl.box.open.after(envelope.ciphertext, envelope.nonce, this.sharedKeyFor(envelope.senderPublicKey));
    return checkBinding(message, expected);
  }

  private sharedKeyFor(senderPublicKey: Uint8Array): Uint8Array {
    const id = toHex(senderPublicKey);
    let key = this.sharedKeys.get(id);
    if (key) {
      this.sharedKeys.delete(id);
    } else {
      key = nacl.box.before(senderPublicKey, this.secretKey);
      if (this.sharedKeys.size >= this.maxSenders) this.sharedKeys.delete(this.sharedKeys.keys().next().value!);
    }
    this.sharedKeys.set(id, key);
    return key;
  }
}
