import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { bindingBytes, envelopeCipher, EnvelopeOpener, EnvelopeSealer, isLegacyEnvelope, ProtocolError } from '@fedrec/protocol';
import { parseFitReply } from '@fedrec/coordinator';
import { assertVectorOutcome } from './envelope-outcome.js';
import { runEnvelopeVector, VECTOR } from './envelope-vectors.js';

describe('protocol: AES-256-GCM envelopes (Node)', () => {
  it('matches the fixed vector, and node:crypto computes the same bytes independently', async () => {
    const outcome = await runEnvelopeVector();
    assert.equal(outcome.ciphertextHex, VECTOR.ciphertextHex);
    // The same construction with node:crypto's own HKDF and cipher: a second implementation, not our code.
    const sender = nacl.box.keyPair.fromSecretKey(VECTOR.senderSecretKey);
    const recipient = nacl.box.keyPair.fromSecretKey(VECTOR.recipientSecretKey);
    const shared = nacl.box.before(recipient.publicKey, sender.secretKey);
    const salt = Buffer.concat([sender.publicKey, recipient.publicKey]);
    const key = Buffer.from(hkdfSync('sha256', shared, salt, 'fedrec/envelope/3 aes-256-gcm', 32));
    const cipher = createCipheriv('aes-256-gcm', key, VECTOR.nonce);
    cipher.setAAD(bindingBytes(VECTOR.binding));
    const independent = Buffer.concat([cipher.update(VECTOR.plaintext), cipher.final(), cipher.getAuthTag()]).toString('hex');
    assert.equal(independent, VECTOR.ciphertextHex);
  });

  it('runs node:crypto by default in Node (WebCrypto stays for browsers)', () => {
    assert.equal(envelopeCipher().name, 'node:crypto');
  });

  for (const name of ['node:crypto', 'webcrypto'] as const) {
    it(`${name}: matches the vector, opens what it sealed and refuses every tampering with ENVELOPE_REJECTED`, async () => {
      assertVectorOutcome(await runEnvelopeVector(name), name);
    });
  }

  it('a 4 MiB envelope sealed by either implementation opens with the other, and the plaintext owns its buffer', async () => {
    const recipient = nacl.box.keyPair();
    const plaintext = nacl.randomBytes(4 << 20);
    const binding = { ...VECTOR.binding, kind: 'fit' };
    for (const [from, to] of [
      ['node:crypto', 'webcrypto'],
      ['webcrypto', 'node:crypto'],
    ] as const) {
      const sealed = await new EnvelopeSealer(recipient.publicKey, undefined, envelopeCipher(from)).seal(plaintext, binding);
      const opened = await new EnvelopeOpener(recipient.secretKey, 8, envelopeCipher(to)).open(sealed, binding);
      assert.ok(Buffer.from(opened).equals(Buffer.from(plaintext)), `${from} -> ${to}`);
      // Callers may transfer opened.buffer to a worker: it must be the plaintext's own memory, not a shared slab.
      assert.equal(opened.byteOffset, 0);
      assert.equal(opened.buffer.byteLength, plaintext.length);
      assert.ok(!Buffer.isBuffer(opened));
      const cut = { ...sealed, ciphertext: sealed.ciphertext.subarray(0, 10) };
      await assert.rejects(
        new EnvelopeOpener(recipient.secretKey, 8, envelopeCipher(to)).open(cut, binding),
        (err: unknown) => err instanceof ProtocolError && err.code === 'ENVELOPE_REJECTED',
      );
    }
  });

  it('uses a fresh nonce per message of a session', async () => {
    const sealer = new EnvelopeSealer(nacl.box.keyPair().publicKey);
    const a = await sealer.seal(VECTOR.plaintext, VECTOR.binding);
    const b = await sealer.seal(VECTOR.plaintext, VECTOR.binding);
    assert.deepEqual(a.senderPublicKey, b.senderPublicKey);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
  });

  it('refuses a protocol-2 envelope (tweetnacl box) with PROTOCOL_VERSION_MISMATCH', () => {
    const legacy = { senderPublicKey: new Uint8Array(32), nonce: new Uint8Array(24), ciphertext: new Uint8Array(96) };
    assert.ok(isLegacyEnvelope(legacy));
    assert.throws(
      () => parseFitReply({ envelope: legacy }),
      (err: unknown) => err instanceof ProtocolError && err.code === 'PROTOCOL_VERSION_MISMATCH',
    );
    // Anything else malformed stays INVALID_PAYLOAD.
    assert.throws(
      () => parseFitReply({ envelope: { ...legacy, nonce: new Uint8Array(12) } }),
      (err: unknown) => err instanceof ProtocolError && err.code === 'INVALID_PAYLOAD',
    );
  });
});
