import assert from 'node:assert/strict';
import { decodeUpdatePayload, encodeUpdatePayload, ProtocolError, type UpdatePayload, type WeightManifest } from './index.js';

// Two rowwise tables (10 x 3 and 10 x 1) around a dense bias: 30 + 2 + 10 floats, 20 row weights.
const manifest: WeightManifest = {
  tensors: [
    { name: 'user', shape: [1, 3], dtype: 'float32', shared: false },
    { name: 'items', shape: [10, 3], dtype: 'float32', shared: true, rowwise: true },
    { name: 'bias', shape: [2], dtype: 'float32', shared: true },
    { name: 'item_bias', shape: [10, 1], dtype: 'float32', shared: true, rowwise: true },
  ],
};

/** A device that touched rows 2 and 7 of both tables. */
function touched(): UpdatePayload {
  const delta = new Float32Array(42);
  const rowWeights = new Float32Array(20);
  for (const row of [2, 7]) {
    delta.set([row + 0.5, -row, 0.25], row * 3);
    delta[32 + row] = row / 10;
    rowWeights[row] = row;
    rowWeights[10 + row] = row;
  }
  delta.set([0.125, -0.5], 30);
  return { numExamples: 9, metrics: { loss: 0.3 }, delta, rowWeights };
}

describe('protocol: sparse rows in update payloads', () => {
  it('leaves untouched rows out and restores the dense update exactly', () => {
    const update = touched();
    const dense = encodeUpdatePayload(update);
    const sparse = encodeUpdatePayload(update, manifest);
    assert.ok(sparse.length < dense.length / 2, `${sparse.length} vs ${dense.length} bytes`);
    for (const bytes of [dense, sparse]) {
      const back = decodeUpdatePayload(bytes, manifest);
      assert.deepEqual(Array.from(back.delta), Array.from(update.delta));
      assert.deepEqual(Array.from(back.rowWeights!), Array.from(update.rowWeights!));
      assert.equal(back.numExamples, 9);
    }
  });

  it('keeps a row with a non-zero delta even when its weight is zero', () => {
    const update = touched();
    update.delta[5 * 3 + 1] = 1e-7;
    const back = decodeUpdatePayload(encodeUpdatePayload(update, manifest), manifest);
    assert.equal(back.delta[16], Math.fround(1e-7));
  });

  it('stays dense when most rows are touched', () => {
    const update = touched();
    update.rowWeights!.fill(1);
    const bytes = encodeUpdatePayload(update, manifest);
    assert.equal(bytes.length, encodeUpdatePayload(update).length);
  });

  it('refuses a sparse payload without its manifest, against another manifest, or truncated', () => {
    const sparse = encodeUpdatePayload(touched(), manifest);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
        return err.code;
      }
      assert.fail('expected a rejection');
    };
    assert.equal(
      code(() => decodeUpdatePayload(sparse)),
      'INVALID_PAYLOAD',
    );
    const wider = { tensors: manifest.tensors.map((t) => (t.name === 'items' ? { ...t, shape: [11, 3] } : t)) };
    assert.equal(
      code(() => decodeUpdatePayload(sparse, wider)),
      'MANIFEST_MISMATCH',
    );
    assert.equal(
      code(() => decodeUpdatePayload(sparse.subarray(0, sparse.length - 4), manifest)),
      'INVALID_PAYLOAD',
    );
    // A bitmap that claims more rows than the floats carry.
    const forged = Uint8Array.from(sparse);
    const headerLength = new DataView(forged.buffer).getUint32(0, true);
    forged[Math.ceil((4 + headerLength) / 4) * 4] = 0xff;
    assert.equal(
      code(() => decodeUpdatePayload(forged, manifest)),
      'INVALID_PAYLOAD',
    );
  });
});
