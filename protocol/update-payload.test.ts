import assert from 'node:assert/strict';
import {
  decodeUpdatePayload,
  encodeUpdatePayload,
  isPaddedUpdate,
  paddedBucketBytes,
  ProtocolError,
  type UpdatePayload,
  type WeightManifest,
} from './index.js';

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
    const sparse = encodeUpdatePayload(update, manifest, { pad: false });
    assert.ok(sparse.length < dense.length / 2, `${sparse.length} vs ${dense.length} bytes`);
    for (const bytes of [dense, sparse, encodeUpdatePayload(update, manifest)]) {
      const back = decodeUpdatePayload(bytes, manifest);
      assert.deepEqual(Array.from(back.delta), Array.from(update.delta));
      assert.deepEqual(Array.from(back.rowWeights!), Array.from(update.rowWeights!));
      assert.equal(back.numExamples, 9);
    }
  });

  it('spare: the same bytes with free room after them in their buffer (the SDK seals there), and a bad spare is refused', () => {
    const update = touched();
    const plain = encodeUpdatePayload(update, manifest);
    const roomy = encodeUpdatePayload(update, manifest, { spare: 16 });
    assert.deepEqual(roomy, plain);
    assert.equal(roomy.byteOffset, 0);
    assert.equal(roomy.buffer.byteLength, plain.length + 16);
    assert.deepEqual(Array.from(decodeUpdatePayload(roomy, manifest).delta), Array.from(update.delta));
    for (const spare of [-1, 1.5, NaN]) assert.throws(() => encodeUpdatePayload(update, manifest, { spare }), RangeError);
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
    const bytes = encodeUpdatePayload(update, manifest, { pad: false });
    assert.equal(bytes.length, encodeUpdatePayload(update).length);
  });

  it('refuses a sparse payload without its manifest, against another manifest, or truncated', () => {
    const sparse = encodeUpdatePayload(touched(), manifest, { pad: false });
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

describe('protocol: padded update payloads (plain-mode sizes)', () => {
  // 600 items in two tables: more than PADDED_ITEM_ROWS, so a light and a heavy device are told apart only by buckets.
  const big: WeightManifest = {
    tensors: [
      { name: 'items', shape: [600, 4], dtype: 'float32', shared: true, rowwise: true },
      { name: 'item_bias', shape: [600, 1], dtype: 'float32', shared: true, rowwise: true },
    ],
  };
  const touching = (rows: number[], loss: number): UpdatePayload => {
    const delta = new Float32Array(3000);
    const rowWeights = new Float32Array(1200);
    for (const r of rows) {
      delta.set([1, -2, 3, 0.5], r * 4);
      delta[2400 + r] = 0.25;
      rowWeights[r] = 2;
      rowWeights[600 + r] = 2;
    }
    return { numExamples: rows.length, metrics: { loss }, delta, rowWeights };
  };

  it('gives devices that touched 1, 40 or 300 items one size, in every encoding, and decodes each exactly', () => {
    for (const compression of ['none', 'fp16', 'int8'] as const) {
      const updates = [[5], Array.from({ length: 40 }, (_, i) => i * 7), Array.from({ length: 300 }, (_, i) => i * 2)].map((rows, i) =>
        touching(rows, 0.1 + i / 3),
      );
      const sizes = updates.map((u) => encodeUpdatePayload(u, big, { compression }).length);
      assert.equal(new Set(sizes).size, 1, `${compression}: ${sizes.join(', ')}`);
      assert.equal(sizes[0], paddedBucketBytes(big, compression));
      assert.ok(isPaddedUpdate(sizes[0]!, big, compression));
      for (const u of updates) {
        const back = decodeUpdatePayload(encodeUpdatePayload(u, big, { compression }), big, compression);
        assert.deepEqual(Array.from(back.rowWeights!), Array.from(u.rowWeights!));
        if (compression === 'none') assert.deepEqual(Array.from(back.delta), Array.from(u.delta));
      }
    }
  });

  it('puts a device past the row budget in the next bucket (twice the size), and refuses a non-zero padding', () => {
    const heavy = encodeUpdatePayload(
      touching(
        Array.from({ length: 590 }, (_, i) => i),
        0.2,
      ),
      big,
    );
    const bucket = paddedBucketBytes(big);
    assert.ok(heavy.length === 2 * bucket || heavy.length === 4 * bucket, `${heavy.length} vs bucket ${bucket}`);
    const light = encodeUpdatePayload(touching([1, 2], 0.2), big);
    assert.equal(isPaddedUpdate(encodeUpdatePayload(touching([1, 2], 0.2), big, { pad: false }).length, big), false);
    const forged = Uint8Array.from(light);
    forged[forged.length - 1] = 1;
    assert.throws(
      () => decodeUpdatePayload(forged, big),
      (err: unknown) => err instanceof ProtocolError && err.code === 'INVALID_PAYLOAD',
    );
  });
});
