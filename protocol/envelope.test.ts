import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import {
  decodeUpdatePayload,
  deriveEnvelopeKey,
  ENVELOPE_NONCE_BYTES,
  ENVELOPE_TAG_BYTES,
  envelopeCipher,
  sealWithKey,
  EnvelopeOpener,
  EnvelopeSealer,
  encodeUpdatePayload,
  fingerprint,
  generateKeyPair,
  open,
  ProtocolError,
  seal,
  type EnvelopeBinding,
} from './index.js';

const binding: EnvelopeBinding = { roundId: 7, clientId: 'alice', taskId: 't-7-alice', modelVersion: 6 };

async function rejectedAsync(fn: () => Promise<unknown>): Promise<ProtocolError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the envelope to be rejected');
}

function rejected(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the envelope to be rejected');
}

describe('protocol: sealed update envelopes', () => {
  const coordinator = generateKeyPair();
  const payload = encodeUpdatePayload({
    numExamples: 42,
    metrics: { loss: 0.25 },
    delta: Float32Array.from([1, -2, 3.5]),
    rowWeights: Float32Array.from([0, 4]),
  });

  it('round-trips a sealed update to the coordinator key', async () => {
    const envelope = await seal(payload, binding, coordinator.publicKey);
    const back = decodeUpdatePayload(await open(envelope, binding, coordinator.secretKey));
    assert.equal(back.numExamples, 42);
    assert.deepEqual(back.metrics, { loss: 0.25 });
    assert.deepEqual(Array.from(back.delta), [1, -2, 3.5]);
    assert.deepEqual(Array.from(back.rowWeights!), [0, 4]);
  });

  it('does not carry the plaintext in the clear', async () => {
    const envelope = await seal(payload, binding, coordinator.publicKey);
    const hay = Buffer.from(envelope.ciphertext).toString('latin1');
    assert.ok(!hay.includes('numExamples'));
  });

  it('rejects an altered envelope', async () => {
    const envelope = await seal(payload, binding, coordinator.publicKey);
    envelope.ciphertext[envelope.ciphertext.length - 1]! ^= 1;
    assert.equal((await rejectedAsync(() => open(envelope, binding, coordinator.secretKey))).code, 'ENVELOPE_REJECTED');
  });

  it('rejects an envelope sealed to another key', async () => {
    const other = generateKeyPair();
    const envelope = await seal(payload, binding, other.publicKey);
    assert.equal((await rejectedAsync(() => open(envelope, binding, coordinator.secretKey))).code, 'ENVELOPE_REJECTED');
  });

  it('rejects a replay into a later round and a swap to another client or task', async () => {
    const envelope = await seal(payload, binding, coordinator.publicKey);
    for (const other of [
      { ...binding, roundId: 8 },
      { ...binding, clientId: 'mallory' },
      { ...binding, taskId: 't-7-mallory' },
      { ...binding, modelVersion: 7 },
    ]) {
      const err = await rejectedAsync(() => open(envelope, other, coordinator.secretKey));
      assert.equal(err.code, 'ENVELOPE_REJECTED');
      assert.match(err.message, /bound to another/);
    }
  });

  it('gives a stable fingerprint per key and different ones for different keys', () => {
    assert.equal(fingerprint(coordinator.publicKey), fingerprint(Uint8Array.from(coordinator.publicKey)));
    assert.match(fingerprint(coordinator.publicKey), /^sha512:[0-9a-f]{32}$/);
    assert.notEqual(fingerprint(coordinator.publicKey), fingerprint(generateKeyPair().publicKey));
  });
});

describe('protocol: update payload codec', () => {
  it('round-trips without row weights and from an unaligned Buffer view', () => {
    const bytes = encodeUpdatePayload({ numExamples: 3, metrics: {}, delta: Float32Array.from([0.5, 0.25]) });
    const packet = Buffer.alloc(bytes.length + 1);
    Buffer.from(bytes).copy(packet, 1);
    const back = decodeUpdatePayload(packet.subarray(1));
    assert.deepEqual(Array.from(back.delta), [0.5, 0.25]);
    assert.equal(back.rowWeights, undefined);
  });

  it('rejects truncated, oversized and nonsense payloads with INVALID_PAYLOAD', () => {
    const bytes = encodeUpdatePayload({ numExamples: 3, metrics: {}, delta: new Float32Array(4) });
    for (const bad of [bytes.subarray(0, bytes.length - 4), new Uint8Array([...bytes, 0, 0, 0, 0]), new Uint8Array(2), new Uint8Array(64).fill(255)]) {
      assert.equal(rejected(() => decodeUpdatePayload(bad)).code, 'INVALID_PAYLOAD');
    }
    const header = new TextEncoder().encode('{"numExamples":-1,"metrics":{},"deltaLength":0,"rowWeightsLength":0}');
    const negative = new Uint8Array(4 + header.length + 4);
    new DataView(negative.buffer).setUint32(0, header.length, true);
    negative.set(header, 4);
    assert.equal(rejected(() => decodeUpdatePayload(negative.subarray(0, Math.ceil((4 + header.length) / 4) * 4))).code, 'INVALID_PAYLOAD');
  });
});

describe('protocol: session sealing', () => {
  const coordinator = generateKeyPair();
  const payload = encodeUpdatePayload({ numExamples: 1, metrics: {}, delta: Float32Array.from([4, 5]) });

  it('seals a session with one sender key that opens with the plain open() and with an opener', async () => {
    const sealer = new EnvelopeSealer(coordinator.publicKey);
    const opener = new EnvelopeOpener(coordinator.secretKey);
    const first = await sealer.seal(payload, binding);
    const second = await sealer.seal(payload, { ...binding, roundId: 8 });
    assert.deepEqual(first.senderPublicKey, second.senderPublicKey);
    assert.notDeepEqual(first.nonce, second.nonce);
    assert.deepEqual(await open(first, binding, coordinator.secretKey), payload);
    assert.deepEqual(await opener.open(second, { ...binding, roundId: 8 }), payload);
  });

  it('still rejects replays, swaps, tampering and other keys through a caching opener', async () => {
    const sealer = new EnvelopeSealer(coordinator.publicKey);
    const opener = new EnvelopeOpener(coordinator.secretKey, 2);
    const envelope = await sealer.seal(payload, binding);
    assert.deepEqual(await opener.open(envelope, binding), payload);
    assert.equal((await rejectedAsync(() => opener.open(envelope, { ...binding, roundId: 8 }))).code, 'ENVELOPE_REJECTED');
    assert.equal((await rejectedAsync(() => opener.open(envelope, { ...binding, clientId: 'mallory' }))).code, 'ENVELOPE_REJECTED');
    const tampered = { ...envelope, ciphertext: Uint8Array.from(envelope.ciphertext) };
    tampered.ciphertext[5]! ^= 4;
    assert.equal((await rejectedAsync(() => opener.open(tampered, binding))).code, 'ENVELOPE_REJECTED');
    const stranger = await new EnvelopeSealer(generateKeyPair().publicKey).seal(payload, binding);
    assert.equal((await rejectedAsync(() => opener.open(stranger, binding))).code, 'ENVELOPE_REJECTED');
    // More senders than the cache holds: evicted ones still open (the key is agreed again).
    for (let i = 0; i < 3; i++) await opener.open(await new EnvelopeSealer(coordinator.publicKey).seal(payload, binding), binding);
    assert.deepEqual(await opener.open(envelope, binding), payload);
  });
});

describe('protocol: sealing into a caller-provided buffer', () => {
  const coordinator = generateKeyPair();
  // Several 64 KiB sealing steps and a ragged tail.
  const plaintext = Uint8Array.from({ length: 200_003 }, (_, i) => (i * 131) & 0xff);

  for (const name of ['node:crypto', 'webcrypto'] as const) {
    it(`${name}: the same bytes as a fresh buffer, into a reused buffer and in place`, async () => {
      const sender = generateKeyPair();
      const sealer = new EnvelopeSealer(coordinator.publicKey, sender, envelopeCipher(name));
      const key = await deriveEnvelopeKey(
        nacl.box.before(coordinator.publicKey, sender.secretKey),
        sender.publicKey,
        coordinator.publicKey,
        envelopeCipher(name),
      );
      const nonce = new Uint8Array(ENVELOPE_NONCE_BYTES).fill(3);
      const fresh = await sealWithKey(key, nonce, plaintext, binding);

      const reused = new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES).fill(0xee);
      const into = await sealWithKey(key, nonce, plaintext, binding, reused);
      assert.equal(into, reused, 'the caller’s buffer is the ciphertext');
      assert.deepEqual(into, fresh);

      // In place: the plaintext sits at the start of a buffer with room for the tag, and is overwritten.
      const room = new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES);
      room.set(plaintext);
      const inPlace = await sealWithKey(key, nonce, room.subarray(0, plaintext.length), binding, room);
      assert.deepEqual(inPlace, fresh);

      const envelope = await sealer.seal(plaintext, binding, new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES));
      assert.deepEqual(await open(envelope, binding, coordinator.secretKey), plaintext);
    });

    it(`${name}: sealInPlace uses the plaintext's own memory when it has room for the tag, else a new buffer`, async () => {
      const sealer = new EnvelopeSealer(coordinator.publicKey, generateKeyPair(), envelopeCipher(name));
      const room = new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES);
      room.set(plaintext);
      const inPlace = await sealer.sealInPlace(room.subarray(0, plaintext.length), binding);
      assert.equal(inPlace.ciphertext.buffer, room.buffer);
      assert.equal(inPlace.ciphertext.length, room.length);
      assert.deepEqual(await open(inPlace, binding, coordinator.secretKey), plaintext);
      // Too little room (the tag would overrun): a new buffer, and the plaintext is left as it was.
      const tight = new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES - 1);
      tight.set(plaintext);
      const fresh = await sealer.sealInPlace(tight.subarray(0, plaintext.length), binding);
      assert.notEqual(fresh.ciphertext.buffer, tight.buffer);
      assert.deepEqual(tight.subarray(0, plaintext.length), plaintext);
      assert.deepEqual(await open(fresh, binding, coordinator.secretKey), plaintext);
    });

    it(`${name}: refuses an output buffer of the wrong size or overlapping the plaintext at another offset`, async () => {
      const sealer = new EnvelopeSealer(coordinator.publicKey, generateKeyPair(), envelopeCipher(name));
      await assert.rejects(() => sealer.seal(plaintext, binding, new Uint8Array(plaintext.length)), RangeError);
      const room = new Uint8Array(plaintext.length + ENVELOPE_TAG_BYTES + 8);
      await assert.rejects(
        () => sealer.seal(room.subarray(8, 8 + plaintext.length), binding, room.subarray(0, plaintext.length + ENVELOPE_TAG_BYTES)),
        RangeError,
      );
    });
  }
});
