import assert from 'node:assert/strict';
import { decodeUpdatePayload, decodeValues, encodeUpdatePayload, type WeightManifest } from '@fedrec/protocol';

// decodeUpdatePayload's `adopt` (issue 12, GC by allocation site): the coordinator hands over the plaintext it
// decrypted, so a dense float32 delta is a view of it instead of a fresh model-sized copy. Without `adopt`
// (every other caller) the decoded arrays never alias the caller's bytes.
describe('protocol: decoding an adopted update plaintext', () => {
  const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [1000], dtype: 'float32', shared: true }] };
  const delta = Float32Array.from({ length: 1000 }, (_, i) => (i % 13) - 6.5);
  const bytes = () => encodeUpdatePayload({ numExamples: 3, metrics: { loss: 1 }, delta }, manifest);

  it('adopted: the delta views the plaintext (same buffer), with the same values', () => {
    const plaintext = bytes();
    const out = decodeUpdatePayload(plaintext, manifest, 'none', true);
    assert.equal(out.delta.buffer, plaintext.buffer, 'a view, not a copy');
    assert.deepEqual(Array.from(out.delta), Array.from(delta));
  });

  it('not adopted: the delta is a copy, and writing the caller’s bytes afterwards changes nothing decoded', () => {
    const plaintext = bytes();
    const out = decodeUpdatePayload(plaintext, manifest, 'none');
    assert.notEqual(out.delta.buffer, plaintext.buffer);
    plaintext.fill(0);
    assert.deepEqual(Array.from(out.delta), Array.from(delta));
  });

  it('adopted but not 4-byte aligned: copied (a Float32Array cannot view it)', () => {
    const raw = new Uint8Array(4 * 8 + 1);
    const values = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    raw.set(new Uint8Array(values.buffer), 1);
    const out = decodeValues(raw.subarray(1), 8, [8], 'none', true);
    assert.notEqual(out.buffer, raw.buffer);
    assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
