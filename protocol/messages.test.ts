import assert from 'node:assert/strict';
import { fitTaskSchema, handshakeSchema, PROTOCOL_VERSION, trainingConfigSchema } from './index.js';

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
