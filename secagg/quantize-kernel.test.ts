import assert from 'node:assert/strict';
import {
  contributionLayout,
  cryptoUniformWords,
  decodeAggregate,
  DeltaQuantizer,
  encodeContribution,
  levels,
  prepareContribution,
  quantizationStep,
  quantizeInto,
  quantizeKernel,
  uniformsFromWords,
  useQuantizeKernel,
  type ClientContribution,
  type UniformWords,
} from './index.js';
import { config, seededUniform } from './testing/helpers.js';

/** Dense tensors around two rowwise tables, so the kernel runs dense stretches, tables and stretches between them. */
const manifest = {
  tensors: [
    { name: 'dense/a', shape: [37], dtype: 'float32' as const, shared: true },
    { name: 'items', shape: [60, 8], dtype: 'float32' as const, shared: true, rowwise: true },
    { name: 'dense/b', shape: [5, 3], dtype: 'float32' as const, shared: true },
    { name: 'users', shape: [9, 4], dtype: 'float32' as const, shared: false },
    { name: 'tags', shape: [11, 5], dtype: 'float32' as const, shared: true, rowwise: true },
    { name: 'dense/c', shape: [6], dtype: 'float32' as const, shared: true },
  ],
};
const layout = contributionLayout(manifest);
const clipBitLayout = contributionLayout(manifest, { clipBitStd: 0.5 });

/** The same uniform words, as a bulk source (the kernel's input) and in a copy for the JavaScript path's draws. */
function seededWords(seed: number, count: number): Uint32Array {
  const rand = seededUniform(seed);
  return Uint32Array.from({ length: count }, () => Math.floor(rand() * 2 ** 32));
}
const bulk = (words: Uint32Array): UniformWords => ({ fill: (into) => into.set(words.subarray(0, into.length)) });

/**
 * Values that test the edges: ±clipRange exactly and beyond, ±0, tiny and subnormal, ordinary values, and with `huge`
 * ±3.4e38 (left out under an L2 bound, whose scale would then round everything else to 0).
 */
function edgyDelta(length: number, seed: number, clipRange: number, huge: boolean): Float32Array {
  const rand = seededUniform(seed);
  const specials = [clipRange, -clipRange, clipRange * 1.0000001, -clipRange * 3, 0, -0, ...(huge ? [3.4e38, -3.4e38] : []), 1e-45, -1e-45, 1e-30, 0.5, -0.5];
  return Float32Array.from({ length }, (_, i) => (i % 5 === 0 ? specials[(i / 5) % specials.length]! : (rand() * 2 - 1) * clipRange * 1.2));
}

function contribution(seed: number, withRowWeights: boolean, huge = true): ClientContribution {
  const rand = seededUniform(seed + 1);
  const rowWeights = Float32Array.from({ length: layout.rowWeightsLength }, (_, r) => (r % 4 === 0 ? 0 : Math.floor(rand() * 40) + rand()));
  return { numExamples: 23, delta: edgyDelta(layout.deltaLength, seed, 0.7, huge), ...(withRowWeights ? { rowWeights } : {}) };
}

/** encodeContribution's outcome (the vector, or its error's message) with the kernel on or off. */
function encoded(kernel: boolean, encode: () => Uint32Array): Uint32Array | string {
  useQuantizeKernel(kernel);
  try {
    return encode();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    useQuantizeKernel(true);
  }
}

describe('secagg quantization on the WebAssembly kernel (bit-identical to the JavaScript path)', () => {
  it('Node 20 has the kernel (else every device quantizes on the cold JavaScript path)', () => {
    assert.equal(quantizeKernel, true);
  });

  it('encodeContribution: the kernel gives the JavaScript path bits for the same draws (L2 scale or not, row weights or not, both roundings)', () => {
    let seed = 1;
    for (const rounding of ['nearest', 'stochastic'] as const) {
      for (const normBound of [undefined, 2, 0.05]) {
        for (const withRowWeights of [true, false]) {
          const cfg = config({ rounding, clipRange: 0.7, maxWeight: 30, quantizationBits: 24, ...(normBound ? { normBound } : {}) });
          const c = contribution(seed++, withRowWeights, normBound === undefined);
          const words = seededWords(seed, layout.vectorLength);
          const viaKernel = encoded(true, () => encodeContribution(c, layout, cfg, bulk(words)));
          // The JavaScript path as it always ran: one draw at a time from an injected UniformSource.
          const viaJs = encoded(false, () => encodeContribution(c, layout, cfg, uniformsFromWords(words)));
          const label = `${rounding}, normBound ${normBound}, rowWeights ${withRowWeights}`;
          assert.ok(viaKernel instanceof Uint32Array, label);
          assert.deepEqual(viaKernel, viaJs, label);
          // Where the kernel is missing, bulk words run the JavaScript path: the same bits again.
          assert.deepEqual(
            encoded(false, () => encodeContribution(c, layout, cfg, bulk(words))),
            viaJs,
            label,
          );
        }
      }
    }
  });

  it('n, the row weights and the clipping bit after the delta draw the words that follow the delta, as the JavaScript path does', () => {
    for (const rounding of ['nearest', 'stochastic'] as const) {
      const cfg = config({ rounding });
      for (const clipBit of [0.5 + 0.3, -0.5 - 2.4, 1e6]) {
        const c = { ...contribution(40, true), clipBit, numExamples: 1e9 };
        const words = seededWords(41, clipBitLayout.vectorLength);
        const viaKernel = encodeContribution(c, clipBitLayout, cfg, bulk(words));
        assert.deepEqual(
          viaKernel,
          encoded(false, () => encodeContribution(c, clipBitLayout, cfg, uniformsFromWords(words))),
          `${rounding}, bit ${clipBit}`,
        );
      }
    }
  });

  it("rounds to nearest exactly as Math.round (halves toward +∞) and clamps to ±levels, stochastic at the dither's extremes", () => {
    // delta 1 and range = levels (step 1): each row's weight is the scaled value itself, so the edge cases are exact.
    const bits = 31;
    const top = levels(bits);
    assert.equal(quantizationStep(top, bits), 1);
    const scaled = [
      0.49999999999999994,
      -0.49999999999999994,
      0.5,
      -0.5,
      1.5,
      -1.5,
      2.5,
      -2.5,
      0,
      -0,
      1e-300,
      -1e-300,
      4503599627370495.5,
      -4503599627370497,
      top - 0.5,
      -top + 0.5,
      top + 0.5,
      -top - 0.5,
      1e300,
      -1e300,
      123456.49999999999,
      -123456.50000000001,
    ];
    const kernel = DeltaQuantizer.forThread(scaled.length, scaled.length, scaled.length)!;
    for (const stochastic of [false, true]) {
      // Dither words 0, 2^32 − 1, 2^31 and seeded ones: u at 0, just under 1 and exactly 1/2.
      const words = Uint32Array.from(scaled, (_, i) => [0, 2 ** 32 - 1, 2 ** 31][i % 4] ?? seededWords(i, 1)[0]!);
      kernel.dither.set(words);
      kernel.weights.set(scaled);
      kernel.load(new Float32Array(scaled.length).fill(1));
      kernel.quantizeRows(0, scaled.length, 1, 0, { scale: 1, clipAt: 1, range: top, bits, stochastic });
      const got = new Uint32Array(scaled.length);
      kernel.copyTo(got);
      const want = new Uint32Array(scaled.length);
      quantizeInto(scaled, top, bits, want, 0, stochastic ? uniformsFromWords(words) : undefined);
      assert.deepEqual(got, want, stochastic ? 'stochastic' : 'nearest');
      if (!stochastic)
        assert.deepEqual(
          Array.from(got.subarray(0, 8), (q) => q | 0),
          [0, 0, 1, 0, 2, -1, 3, -2],
        );
    }
  });

  it('a NaN (or an infinity the L2 scale turns into NaN) throws the RangeError of the JavaScript path, at the same index', () => {
    const table = layout.tables[1]!;
    for (const [bad, normBound, at] of [
      [Number.NaN, undefined, 3],
      [Number.NaN, 1, table.offset + table.cols + 2],
      [Number.POSITIVE_INFINITY, 1, table.offset + 1],
      [Number.NEGATIVE_INFINITY, 1, layout.deltaLength - 1],
    ] as const) {
      for (const rounding of ['nearest', 'stochastic'] as const) {
        const cfg = config({ rounding, ...(normBound ? { normBound } : {}) });
        const c = contribution(60, true);
        c.delta[at] = bad;
        if (at + 7 < layout.deltaLength) c.delta[at + 7] = bad; // a second one after it: the first is reported
        const words = seededWords(61, layout.vectorLength);
        const message = `RangeError: cannot quantize non-finite value at ${at}`;
        assert.equal(
          encoded(true, () => encodeContribution(c, layout, cfg, bulk(words))),
          message,
          `${bad} at ${at}, ${rounding}`,
        );
        assert.equal(
          encoded(false, () => encodeContribution(c, layout, cfg, uniformsFromWords(words))),
          message,
        );
      }
    }
    // Without an L2 bound an infinity is clipped like any large value, on both paths.
    const c = contribution(62, true);
    c.delta[5] = Number.POSITIVE_INFINITY;
    const cfg = config({ rounding: 'nearest' });
    const viaKernel = encodeContribution(c, layout, cfg);
    assert.deepEqual(
      viaKernel,
      encoded(false, () => encodeContribution(c, layout, cfg)),
    );
    const step = quantizationStep(cfg.clipRange * cfg.maxWeight, cfg.quantizationBits);
    assert.ok(Math.abs(decodeAggregate(viaKernel, 1, layout, cfg).weightedDeltaSum[5]! - cfg.clipRange * c.numExamples) <= step / 2);
  });

  it('the default dither is drawn in bulk, once per contribution, and lies in [0, 1) with mean 1/2', () => {
    const cfg = config({ rounding: 'stochastic' });
    const c = contribution(70, true);
    const fill = cryptoUniformWords.fill;
    const drawn: number[] = [];
    cryptoUniformWords.fill = (words) => {
      drawn.push(words.length);
      fill(words);
    };
    try {
      encodeContribution(c, layout, cfg);
    } finally {
      cryptoUniformWords.fill = fill;
    }
    assert.deepEqual(drawn, [layout.vectorLength]);
    // 200k uniforms: the mean's std is 0.00065, so 0.01 is 15 std away; both ends of [0, 1) are reached.
    const words = new Uint32Array(200_000);
    cryptoUniformWords.fill(words);
    const u = Array.from(words, (w) => w / 2 ** 32);
    const mean = u.reduce((s, x) => s + x, 0) / u.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    const [min, max] = u.reduce(([lo, hi], x) => [Math.min(lo, x), Math.max(hi, x)], [1, 0]);
    assert.ok(min >= 0 && min < 0.001 && max < 1 && max > 0.999, `range [${min}, ${max}]`);
  });

  it('the default path rounds stochastically without bias: values of 0.3 steps decode to 0.3 steps on average', () => {
    const manifest1 = { tensors: [{ name: 'w', shape: [100_000], dtype: 'float32' as const, shared: true }] };
    const big = contributionLayout(manifest1);
    const cfg = config({ rounding: 'stochastic', clipRange: 1, maxWeight: 1, quantizationBits: 12 });
    const step = quantizationStep(1, 12);
    const value = Math.fround(0.3 * step);
    const sums = decodeAggregate(encodeContribution({ numExamples: 1, delta: new Float32Array(100_000).fill(value) }, big, cfg), 1, big, cfg);
    // Each value rounds up with probability 0.3: the mean's std is 0.0015 steps, the bound 0.03 steps (20 std).
    const mean = sums.weightedDeltaSum.reduce((s, x) => s + x, 0) / 100_000;
    assert.ok(Math.abs(mean - value) < 0.03 * step, `mean ${mean / step} steps`);
    assert.ok(
      sums.weightedDeltaSum.every((x) => Math.abs(x) < 1e-12 || Math.abs(x - step) < 1e-12),
      'each value rounds to 0 or 1 step',
    );
  });

  it('prepareContribution (run while the device trains) changes no encoding, before or after the memory grows', () => {
    const cfg = config({ rounding: 'stochastic', normBound: 3 });
    const c = contribution(80, true, false);
    const words = seededWords(81, layout.vectorLength);
    const before = encodeContribution(c, layout, cfg, bulk(words));
    prepareContribution(contributionLayout({ tensors: [{ name: 'w', shape: [300_000], dtype: 'float32', shared: true }] }));
    // Warm for this size now: preparing again draws nothing (a device's later rounds pay nothing for it).
    const fill = cryptoUniformWords.fill;
    let draws = 0;
    cryptoUniformWords.fill = (into) => {
      draws++;
      fill(into);
    };
    try {
      prepareContribution(layout);
    } finally {
      cryptoUniformWords.fill = fill;
    }
    assert.equal(draws, 0);
    assert.deepEqual(encodeContribution(c, layout, cfg, bulk(words)), before);
    assert.deepEqual(
      before,
      encoded(false, () => encodeContribution(c, layout, cfg, uniformsFromWords(words))),
    );
  });

  it('refuses runs that do not fit its memory', () => {
    const kernel = DeltaQuantizer.forThread(10, 0, 2)!;
    const q = { scale: 1, clipAt: 1, range: 1, bits: 16, stochastic: false };
    assert.throws(() => kernel.quantizeRows(8, 1, 3, 0, q), /do not fit/);
    assert.throws(() => kernel.quantizeRows(0, 3, 2, 0, q), /do not fit/);
    assert.throws(() => kernel.load(new Float32Array(11)), /holds 10/);
  });
});
