import assert from 'node:assert/strict';
import {
  ProtocolError,
  bodyBlocks,
  decodeUpdatePayload,
  decodeValues,
  decodeWeights,
  encodeUpdatePayload,
  encodeValues,
  encodeWeights,
  encodedSize,
  fromHalfBits,
  toHalfBits,
  type UpdatePayload,
  type WeightManifest,
} from './index.js';

// A seeded generator, so every run checks the same values.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const manifest: WeightManifest = {
  tensors: [
    { name: 'user', shape: [1, 4], dtype: 'float32', shared: false },
    { name: 'items', shape: [50, 4], dtype: 'float32', shared: true, rowwise: true },
    { name: 'dense', shape: [4, 3], dtype: 'float32', shared: true },
    { name: 'bias', shape: [3], dtype: 'float32', shared: true },
  ],
};
const SIZE = 200 + 12 + 3;

/** Rows with very different ranges (1e-3 .. 10), as embedding tables have. */
function body(seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(SIZE);
  for (let i = 0; i < SIZE; i++) out[i] = (rand() * 2 - 1) * 10 ** ((Math.floor(i / 4) % 5) - 3);
  return out;
}

describe('protocol: compression (fp16, int8)', () => {
  it('fp16 matches IEEE binary16 on exact, rounded, subnormal and saturating values', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [1e9, 0x7bff], // saturates rather than becoming Infinity
      [Infinity, 0x7bff],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // flushes to zero
      [1 + 2 ** -11, 0x3c00], // a tie rounds to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
    ];
    for (const [value, bits] of cases) assert.equal(toHalfBits(value), bits, `toHalfBits(${value})`);
    assert.equal(fromHalfBits(0x3555), 0.333251953125);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  });

  it('fp16 round trip: relative error <= 2^-11 in the normal range, absolute <= 2^-25 below it', () => {
    const values = body(1);
    const back = decodeValues(encodeValues(values, [values.length], 'fp16'), values.length, [values.length], 'fp16');
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const bound = Math.abs(v) >= 2 ** -14 ? Math.abs(v) * 2 ** -11 : 2 ** -25;
      assert.ok(Math.abs(back[i]! - v) <= bound, `value ${i}: ${v} came back as ${back[i]}`);
    }
  });

  it('int8 with per-row scales: every value within half a step of its own row, small rows keep their precision', () => {
    const w = { manifest, body: body(2) };
    const blocks = bodyBlocks(manifest);
    assert.deepEqual(Array.from(blocks), [...Array(50).fill(4), 3, 3, 3, 3, 3]); // 50 item rows, 4 dense rows, the bias
    const wire = encodeWeights(w, 'int8');
    assert.equal(wire.encoding, 'int8');
    assert.equal(wire.body.length, SIZE + 4 * blocks.length);
    const back = decodeWeights(wire).body;
    let at = 0;
    for (const n of blocks) {
      const row = w.body.subarray(at, at + n);
      const step = Math.max(...Array.from(row, Math.abs)) / 127;
      for (let i = 0; i < n; i++) assert.ok(Math.abs(back[at + i]! - row[i]!) <= step / 2 + 1e-12, `value ${at + i}`);
      at += n;
    }
  });

  it('sizes: fp16 halves the body, int8 quarters it plus a scale per block', () => {
    const w = { manifest, body: body(3) };
    assert.equal(encodeWeights(w).body.length, 4 * SIZE);
    assert.equal(encodeWeights(w, 'fp16').body.length, 2 * SIZE);
    assert.equal(encodedSize('int8', SIZE, bodyBlocks(manifest)), SIZE + 4 * 55);
  });

  it('refuses compressed bodies of the wrong length or with a hostile scale', () => {
    const wire = encodeWeights({ manifest, body: body(4) }, 'int8');
    assert.throws(() => decodeWeights({ ...wire, body: wire.body.subarray(1) }), RangeError);
    const forged = Uint8Array.from(wire.body);
    new DataView(forged.buffer).setFloat32(0, NaN, true);
    assert.throws(() => decodeWeights({ ...wire, body: forged }), /scale/);
    assert.throws(() => decodeWeights({ ...wire, encoding: 'zstd' }));
  });
});

/** A device that touched rows 3 and 9 (and the dense tensors). */
function touched(seed: number): UpdatePayload {
  const rand = mulberry32(seed);
  const delta = new Float32Array(SIZE);
  const rowWeights = new Float32Array(50);
  for (const row of [3, 9]) {
    for (let j = 0; j < 4; j++) delta[row * 4 + j] = (rand() - 0.5) * 0.2;
    rowWeights[row] = 2;
  }
  for (let i = 200; i < SIZE; i++) delta[i] = (rand() - 0.5) * 0.01;
  return { numExamples: 4, metrics: { loss: 0.5 }, delta, rowWeights };
}

describe('protocol: compressed update payloads', () => {
  for (const codec of ['fp16', 'int8'] as const) {
    it(`${codec}: sparse rows stay left out, row weights stay exact, values within the codec's bound`, () => {
      const update = touched(5);
      const bytes = encodeUpdatePayload(update, manifest, { compression: codec });
      const plain = encodeUpdatePayload(update, manifest);
      assert.ok(bytes.length < plain.length, `${codec} ${bytes.length} vs float32 ${plain.length} bytes`);
      const back = decodeUpdatePayload(bytes, manifest, codec);
      assert.deepEqual(Array.from(back.rowWeights!), Array.from(update.rowWeights!));
      for (let i = 0; i < SIZE; i++) {
        const v = update.delta[i]!;
        if (v === 0) assert.equal(back.delta[i], 0, `left-out value ${i}`);
        else assert.ok(Math.abs(back.delta[i]! - v) <= (codec === 'fp16' ? Math.abs(v) * 2 ** -11 + 2 ** -25 : 0.1 / 127 / 2 + 1e-9), `value ${i}`);
      }
    });
  }

  it('refuses an update in another encoding than the run expects (WRONG_ENCODING), in both directions', () => {
    const update = touched(6);
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
        return err.code;
      }
      return 'accepted';
    };
    assert.equal(
      code(() => decodeUpdatePayload(encodeUpdatePayload(update, manifest), manifest, 'int8')),
      'WRONG_ENCODING',
    );
    assert.equal(
      code(() => decodeUpdatePayload(encodeUpdatePayload(update, manifest, { compression: 'fp16' }), manifest, 'none')),
      'WRONG_ENCODING',
    );
    assert.equal(
      code(() => decodeUpdatePayload(encodeUpdatePayload(update, manifest, { compression: 'int8' }), manifest, 'int8')),
      'accepted',
    );
    const truncated = encodeUpdatePayload(update, manifest, { compression: 'int8' });
    assert.equal(
      code(() => decodeUpdatePayload(truncated.subarray(0, truncated.length - 1), manifest, 'int8')),
      'INVALID_PAYLOAD',
    );
  });
});
