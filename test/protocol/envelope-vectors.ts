// Fixed inputs and the expected AES-256-GCM envelope, checked by the same code in Node
// (test/protocol/envelope-aead.test.ts) and in Chromium (test/browser/envelope-aead.test.ts, bundled).
import nacl from 'tweetnacl';
import {
  deriveEnvelopeKey,
  envelopeCipher,
  EnvelopeOpener,
  EnvelopeSealer,
  openWithKey,
  ProtocolError,
  sealWithKey,
  toHex,
  type EnvelopeBinding,
  type EnvelopeCipherName,
} from '@fedrec/protocol';

const fill = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);

export const VECTOR = {
  senderSecretKey: fill(32, (i) => i + 1),
  recipientSecretKey: fill(32, (i) => 0x80 + i),
  nonce: fill(12, (i) => 0xa0 + i),
  plaintext: new TextEncoder().encode('fedrec sealed update: 0123456789abcdef'),
  binding: { roundId: 7, clientId: 'alice', taskId: 't-7-alice', modelVersion: 6 } satisfies EnvelopeBinding,
  /** AES-256-GCM(HKDF-SHA256(nacl.box.before), nonce, AD = binding), tag appended; computed with node:crypto's own HKDF and cipher too. */
  ciphertextHex: '6af77acbb3e47b13c42aca46fd542df6abb1e907aebfc52cf61db17c533f855ea40d1fe54b66d202140051c867474fd0ffe0b84eb892',
};

export interface VectorOutcome {
  /** The implementation that ran (node:crypto or webcrypto). */
  cipher: string;
  ciphertextHex: string;
  reopened: boolean;
  /** Error codes for: one flipped ciphertext bit, a flipped tag bit, each swapped binding field, another recipient key. */
  tamperCodes: string[];
  sessionRoundTrip: boolean;
  /** The vector sealed in place (the plaintext at the start of a buffer with room for the tag), in hex. */
  inPlaceHex: string;
  /** EnvelopeSealer.sealInPlace (the SDK's path): opens to the plaintext, its ciphertext is the plaintext's own memory. */
  sealInPlaceRoundTrip: boolean;
  sealInPlaceSameBuffer: boolean;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OPENED';
  } catch (err) {
    return err instanceof ProtocolError ? err.code : `THREW ${String(err)}`;
  }
}

/**
 * Runs the vector and the tamper cases with the protocol's own envelope code, wherever it is loaded, with
 * one cipher implementation (default: the one this runtime picks natively).
 */
export async function runEnvelopeVector(cipherName: EnvelopeCipherName | 'native' = 'native'): Promise<VectorOutcome> {
  const cipher = envelopeCipher(cipherName);
  const sender = nacl.box.keyPair.fromSecretKey(VECTOR.senderSecretKey);
  const recipient = nacl.box.keyPair.fromSecretKey(VECTOR.recipientSecretKey);
  const key = await deriveEnvelopeKey(nacl.box.before(recipient.publicKey, sender.secretKey), sender.publicKey, recipient.publicKey, cipher);
  const ciphertext = await sealWithKey(key, VECTOR.nonce, VECTOR.plaintext, VECTOR.binding);
  const envelope = { aead: 'aes-256-gcm' as const, senderPublicKey: sender.publicKey, nonce: VECTOR.nonce, ciphertext };
  const opener = new EnvelopeOpener(recipient.secretKey, 8, cipher);
  const reopened = toHex(await opener.open(envelope, VECTOR.binding)) === toHex(VECTOR.plaintext);

  const flipped = (at: number) => {
    const c = Uint8Array.from(ciphertext);
    c[at]! ^= 1;
    return { ...envelope, ciphertext: c };
  };
  const b = VECTOR.binding;
  const tamperCodes = [
    await code(opener.open(flipped(3), b)),
    await code(opener.open(flipped(ciphertext.length - 1), b)),
    await code(opener.open(envelope, { ...b, roundId: 8 })),
    await code(opener.open(envelope, { ...b, clientId: 'mallory' })),
    await code(opener.open(envelope, { ...b, taskId: 't-7-mallory' })),
    await code(opener.open(envelope, { ...b, modelVersion: 7 })),
    await code(opener.open(envelope, { ...b, kind: 'evaluate' })),
    await code(new EnvelopeOpener(nacl.box.keyPair().secretKey, 8, cipher).open(envelope, b)),
    await code(openWithKey(key, { ...envelope, nonce: fill(12, () => 0) }, b)),
  ];
  const sealer = new EnvelopeSealer(recipient.publicKey, undefined, cipher);
  const sealed = await sealer.seal(VECTOR.plaintext, b);
  const sessionRoundTrip = toHex(await opener.open(sealed, b)) === toHex(VECTOR.plaintext);
  const room = new Uint8Array(VECTOR.plaintext.length + 16);
  room.set(VECTOR.plaintext);
  const inPlaceHex = toHex(await sealWithKey(key, VECTOR.nonce, room.subarray(0, VECTOR.plaintext.length), VECTOR.binding, room));
  const spare = new Uint8Array(VECTOR.plaintext.length + 16);
  spare.set(VECTOR.plaintext);
  const plaintext = spare.subarray(0, VECTOR.plaintext.length);
  const inPlace = await sealer.sealInPlace(plaintext, b);
  const sealInPlaceRoundTrip = toHex(await opener.open(inPlace, b)) === toHex(VECTOR.plaintext);
  const sealInPlaceSameBuffer = inPlace.ciphertext.buffer === spare.buffer && inPlace.ciphertext.length === spare.length;
  return {
    cipher: cipher.name,
    ciphertextHex: toHex(ciphertext),
    reopened,
    tamperCodes,
    sessionRoundTrip,
    inPlaceHex,
    sealInPlaceRoundTrip,
    sealInPlaceSameBuffer,
  };
}
