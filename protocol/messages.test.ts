import assert from 'node:assert/strict';
import { fitTaskSchema, generateSignKeyPair, handshakeSchema, isSmallOrderSignKey, PROTOCOL_VERSION, toHex, trainingConfigSchema } from './index.js';

describe('protocol: message schemas', () => {
  it('accepts a well-formed handshake and refuses hostile client ids and keys', () => {
    const publicKey = 'ab'.repeat(32);
    assert.ok(handshakeSchema.safeParse({ protocolVersion: PROTOCOL_VERSION, clientId: 'device-1', publicKey }).success);
    for (const clientId of ['', 'a b', '../etc/passwd', 'x'.repeat(129), 42]) {
      assert.ok(!handshakeSchema.safeParse({ protocolVersion: PROTOCOL_VERSION, clientId, publicKey }).success, String(clientId));
    }
    for (const key of [undefined, '', 'ab'.repeat(31), 'AB'.repeat(32), 'zz'.repeat(32), 42]) {
      assert.ok(!handshakeSchema.safeParse({ protocolVersion: PROTOCOL_VERSION, clientId: 'device-1', publicKey: key }).success, String(key));
    }
  });

  it('refuses the small-order ed25519 keys, in every encoding, under which signatures prove nothing', () => {
    // libsodium's blocklist and the non-canonical encodings of the same points (sign bit set, y + p).
    const smallOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0000000000000000000000000000000000000000000000000000000000000080',
      '0100000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000080',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const publicKey of smallOrder) {
      assert.ok(isSmallOrderSignKey(publicKey), publicKey);
      const parsed = handshakeSchema.safeParse({ protocolVersion: PROTOCOL_VERSION, clientId: 'device-1', publicKey });
      assert.ok(!parsed.success && /small order/.test(parsed.error.issues[0]!.message), publicKey);
    }
    // Real keys pass: 200 fresh ones, and a key one bit away from a blocked one.
    for (let i = 0; i < 200; i++) assert.equal(isSmallOrderSignKey(toHex(generateSignKeyPair().publicKey)), false);
    assert.equal(isSmallOrderSignKey('0200000000000000000000000000000000000000000000000000000000000000'), false);
  });

  it('refuses training configs out of range', () => {
    const good = { localEpochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd', extra: {} };
    assert.ok(trainingConfigSchema.safeParse(good).success);
    assert.ok(!trainingConfigSchema.safeParse({ ...good, learningRate: -1 }).success);
    assert.ok(!trainingConfigSchema.safeParse({ ...good, localEpochs: 0.5 }).success);
    assert.ok(!trainingConfigSchema.safeParse({ ...good, optimizer: 'rmsprop' }).success);
  });

  it('parses a fit task and normalises its binary body to a Uint8Array', () => {
    const task = {
      taskId: 't1',
      roundId: 1,
      modelVersion: 0,
      deadline: Date.now() + 1000,
      config: { localEpochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd', extra: {} },
      modelSpec: { name: 'mf', options: { factors: 8 } },
      weights: { manifest: { tensors: [{ name: 'w', shape: [2], dtype: 'float32', shared: true }] }, body: new ArrayBuffer(8) },
    };
    const parsed = fitTaskSchema.parse(task);
    assert.ok(parsed.weights!.body instanceof Uint8Array);
    assert.equal(parsed.weights!.body.byteLength, 8);
  });
});
