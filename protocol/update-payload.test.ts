import assert from 'node:assert/strict';
import {
  checkUpdatePadding,
  decodeUpdatePayload,
  encodeUpdatePayload,
  exceedsRowBudget,
  isPaddedUpdate,
  PADDED_ITEM_ROWS,
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

  it('gives devices that touched 1, 40, 300 or 590 items one size, in every encoding, and decodes each exactly', () => {
    for (const compression of ['none', 'fp16', 'int8'] as const) {
      const updates = [
        [5],
        Array.from({ length: 40 }, (_, i) => i * 7),
        Array.from({ length: 300 }, (_, i) => i * 2),
        Array.from({ length: 590 }, (_, i) => i),
      ].map((rows, i) => touching(rows, 0.1 + i / 3));
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

  it('refuses a sparse update of any size but the bucket, and a non-zero padding', () => {
    const light = encodeUpdatePayload(touching([1, 2], 0.2), big);
    const bucket = paddedBucketBytes(big);
    assert.equal(light.length, bucket);
    assert.doesNotThrow(() => checkUpdatePadding(light, big));
    const unpadded = encodeUpdatePayload(touching([1, 2], 0.2), big, { pad: false });
    assert.equal(isPaddedUpdate(unpadded.length, big), false);
    // Twice the bucket was the old "heavier device" size: it would say "more rows than the budget".
    const doubled = new Uint8Array(2 * bucket);
    doubled.set(light);
    assert.equal(isPaddedUpdate(doubled.length, big), false);
    for (const bytes of [unpadded, doubled]) {
      assert.throws(
        () => checkUpdatePadding(bytes, big),
        (err: unknown) => err instanceof ProtocolError && err.code === 'INVALID_PAYLOAD' && /every sparse update of this run is/.test(err.message),
      );
    }
    const forged = Uint8Array.from(light);
    forged[forged.length - 1] = 1;
    assert.throws(
      () => decodeUpdatePayload(forged, big),
      (err: unknown) => err instanceof ProtocolError && err.code === 'INVALID_PAYLOAD',
    );
  });

  it(`carries at most ${PADDED_ITEM_ROWS} rows of a larger table, the largest deltas first, in the bucket's one size`, () => {
    const rows = PADDED_ITEM_ROWS + 952;
    const huge: WeightManifest = {
      tensors: [
        { name: 'items', shape: [rows, 2], dtype: 'float32', shared: true, rowwise: true },
        { name: 'item_bias', shape: [rows, 1], dtype: 'float32', shared: true, rowwise: true },
      ],
    };
    // Touches rows 0..touched-1; row r's delta grows with r, except the bias table's, which falls.
    const touched = PADDED_ITEM_ROWS + 452;
    const delta = new Float32Array(rows * 3);
    const rowWeights = new Float32Array(rows * 2);
    for (let r = 0; r < touched; r++) {
      delta.set([r + 1, -(r + 1)], r * 2);
      delta[rows * 2 + r] = touched - r;
      rowWeights[r] = 1;
      rowWeights[rows + r] = 1;
    }
    const p: UpdatePayload = { numExamples: touched, metrics: { loss: 0.3 }, delta, rowWeights };
    assert.equal(exceedsRowBudget(p, huge), true);
    const light = touching([1, 2], 0.1);
    assert.equal(exceedsRowBudget(light, big), false);
    for (const compression of ['none', 'int8'] as const) {
      const bytes = encodeUpdatePayload(p, huge, { compression });
      assert.equal(bytes.length, paddedBucketBytes(huge, compression));
      assert.doesNotThrow(() => checkUpdatePadding(bytes, huge, compression));
      const back = decodeUpdatePayload(bytes, huge, compression);
      const keptItems = Array.from({ length: rows }, (_, r) => r).filter((r) => back.rowWeights![r] !== 0);
      const keptBias = Array.from({ length: rows }, (_, r) => r).filter((r) => back.rowWeights![rows + r] !== 0);
      // Items: the largest rows are the last ones touched; bias: the first ones.
      assert.deepEqual(
        keptItems,
        Array.from({ length: PADDED_ITEM_ROWS }, (_, i) => touched - PADDED_ITEM_ROWS + i),
      );
      assert.deepEqual(
        keptBias,
        Array.from({ length: PADDED_ITEM_ROWS }, (_, i) => i),
      );
      if (compression === 'none') {
        for (const r of keptItems) assert.deepEqual(Array.from(back.delta.subarray(r * 2, r * 2 + 2)), [r + 1, -(r + 1)]);
        assert.equal(back.delta[0], 0, 'a dropped row arrives as zero');
      }
    }
  });
});
