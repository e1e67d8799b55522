import assert from 'node:assert/strict';
import { decodeUpdatePayload, EnvelopeSealer, generateKeyPair, open, type EnvelopeBinding, type ParsedFitTask, type WeightManifest } from '@fedrec/protocol';
import { sealUpdate } from '@fedrec/client-sdk/round-tasks.js';

// The SDK seals a plain fit update in the encoded payload's own memory (EnvelopeSealer.sealInPlace), so a
// 4 MiB envelope costs no fresh pages: the envelope must still open to the update, with and without compression.
describe('client-sdk: sealing a fit update in place', () => {
  const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [1000], dtype: 'float32', shared: true }] };
  const global = { manifest, body: new Float32Array(1000) };
  const coordinator = generateKeyPair();
  const task = { taskId: 't1', roundId: 3, modelVersion: 2 } as ParsedFitTask;
  const binding = { roundId: 3, clientId: 'c', taskId: 't1', modelVersion: 2 };

  for (const compression of ['none', 'int8'] as const) {
    it(`${compression}: the ciphertext is the payload's buffer (tag included) and opens to the update`, async () => {
      const delta = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) / 10);
      const trained = { outcome: { delta, numExamples: 5, metrics: {} }, metrics: { loss: 0.5 } };
      // Records the payload's memory the SDK hands over, so the test can tell in place from a new buffer.
      let handed: ArrayBufferLike | undefined;
      class Recording extends EnvelopeSealer {
        override sealInPlace(plaintext: Uint8Array, b: EnvelopeBinding) {
          handed = plaintext.buffer;
          return super.sealInPlace(plaintext, b);
        }
      }
      const sent = await sealUpdate(trained, task, global, 'c', new Recording(coordinator.publicKey), { compression });
      const { ciphertext } = sent.reply.envelope;
      assert.equal(ciphertext.buffer, handed, 'sealed in the payload’s own memory');
      assert.equal(ciphertext.byteOffset, 0);
      assert.equal(ciphertext.buffer.byteLength, ciphertext.length, 'the envelope owns exactly its buffer');
      const payload = decodeUpdatePayload(await open(sent.reply.envelope, binding, coordinator.secretKey), manifest, compression);
      assert.equal(payload.numExamples, 5);
      const worst = Math.max(...Array.from(delta, (d, i) => Math.abs(d - payload.delta[i]!)));
      assert.ok(worst <= (compression === 'none' ? 0 : 1e-3), `delta error ${worst}`);
    });
  }
});
