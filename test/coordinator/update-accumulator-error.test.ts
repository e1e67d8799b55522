import assert from 'node:assert/strict';
import { UpdateAccumulator } from '@fedrec/coordinator';
import { FLOAT32_BLOCK } from '@fedrec/coordinator/strategy/update-accumulator.js';
import type { WeightManifest } from '@fedrec/protocol';
import { SeededRandom } from '@fedrec/models/random.js';

// The accumulator sums plain tensors in float32 blocks (a wasm SIMD kernel) and the blocks in float64.
// These tests hold its error to what update-accumulator.ts states, against a float64 reference that
// adds every n·Δ in float64 (the former path, kernel 'float64').

/** Deterministic uniform [0, 1), so a failure reproduces. */
function rng(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

// 4,099 elements: not a multiple of 4 (the kernel's scalar tail) and not of the 16,384-float scratch.
const SIZE = 4099;
const manifest: WeightManifest = {
  tensors: [
    { name: 'dense', shape: [SIZE - 3], dtype: 'float32', shared: true },
    { name: 'bias', shape: [3], dtype: 'float32', shared: true },
  ],
};

function run(updates: Array<{ n: number; delta: Float32Array }>) {
  const fast = new UpdateAccumulator(manifest);
  const reference = new UpdateAccumulator(manifest, { kernel: 'float64' });
  const absolute = new Float64Array(SIZE);
  for (const u of updates) {
    fast.add(u.n, u.delta, undefined);
    reference.add(u.n, u.delta, undefined);
    for (let i = 0; i < SIZE; i++) absolute[i]! += Math.abs(u.n * u.delta[i]!);
  }
  return { fast: fast.sums, reference: reference.sums, absolute };
}

describe('UpdateAccumulator numeric error against float64', () => {
  it('1,000 updates of realistic magnitudes: relative error below 1e-6', () => {
    // Deltas as a round produces them: a shared direction (~1e-2) plus per-client noise of the same
    // order, example counts 1-200; a few elements with a large common value to check scale.
    const r = rng(12);
    const direction = Float32Array.from({ length: SIZE }, (_, i) => (i % 97 === 0 ? 3 : 0.01) * (r() - 0.3));
    const updates = Array.from({ length: 1000 }, () => ({
      n: 1 + Math.floor(r() * 200),
      delta: Float32Array.from(direction, (d) => d + 0.01 * (r() - 0.5)),
    }));
    const { fast, reference } = run(updates);
    assert.equal(fast.contributors, 1000);
    assert.equal(fast.weightSum, reference.weightSum);
    let errSq = 0;
    let refSq = 0;
    let worst = 0;
    for (let i = 0; i < SIZE; i++) {
      const ref = reference.weightedDeltaSum[i]!;
      const e = fast.weightedDeltaSum[i]! - ref;
      errSq += e * e;
      refSq += ref * ref;
      worst = Math.max(worst, Math.abs(e) / Math.abs(ref));
    }
    const relative = Math.sqrt(errSq / refSq);
    assert.ok(relative < 1e-6, `norm-wise relative error ${relative}`);
    // Elementwise too: every element has a common direction, so no sum is near zero here.
    assert.ok(worst < 1e-5, `worst elementwise relative error ${worst}`);
  });

  it('cancellation: updates that sum to (almost) zero stay within the stated bound of Σ|n·Δ|', () => {
    // Pairs +x, -x (with different n), plus a tiny residual: the true sums are ~1e-6 of the terms.
    const r = rng(7);
    const updates: Array<{ n: number; delta: Float32Array }> = [];
    for (let k = 0; k < 500; k++) {
      const x = Float32Array.from({ length: SIZE }, () => r() - 0.5);
      const n = 1 + Math.floor(r() * 50);
      updates.push({ n, delta: x }, { n: 2 * n, delta: Float32Array.from(x, (v) => -v / 2) });
    }
    updates.push({ n: 1, delta: Float32Array.from({ length: SIZE }, () => 1e-4 * (r() - 0.5)) });
    const { fast, reference, absolute } = run(updates);
    const bound = FLOAT32_BLOCK * 2 ** -24;
    let worstRatio = 0;
    for (let i = 0; i < SIZE; i++) {
      const e = Math.abs(fast.weightedDeltaSum[i]! - reference.weightedDeltaSum[i]!);
      worstRatio = Math.max(worstRatio, e / absolute[i]!);
    }
    assert.ok(worstRatio <= bound, `error ${worstRatio} of Σ|n·Δ| exceeds ${bound}`);
  });

  it('reading sums mid-block includes every update, and adding goes on after', () => {
    const acc = new UpdateAccumulator(manifest);
    const one = new Float32Array(SIZE).fill(0.5);
    acc.add(2, one, undefined);
    assert.equal(acc.sums.weightedDeltaSum[SIZE - 1], 1);
    acc.add(4, one, undefined);
    assert.equal(acc.sums.weightedDeltaSum[0], 3);
    assert.equal(acc.sums.weightedDeltaSum[SIZE - 1], 3);
    assert.equal(acc.sums.contributors, 2);
  });
});

describe('UpdateAccumulator fused adds (addMany)', () => {
  // A plain tensor of odd length (the kernel's scalar tail), a rowwise table, and one more plain tensor.
  const mixed: WeightManifest = {
    tensors: [
      { name: 'dense', shape: [SIZE], dtype: 'float32', shared: true },
      { name: 'items', shape: [20, 4], dtype: 'float32', shared: true, rowwise: true },
      { name: 'bias', shape: [5], dtype: 'float32', shared: true },
    ],
  };
  const length = SIZE + 80 + 5;
  function updates(count: number, seed: number) {
    const r = rng(seed);
    return Array.from({ length: count }, () => ({
      numExamples: 1 + Math.floor(r() * 100),
      delta: Float32Array.from({ length }, () => r() - 0.5),
      rowWeights: Float32Array.from({ length: 20 }, () => (r() > 0.5 ? 1 + Math.floor(r() * 4) : 0)),
    }));
  }

  it('gives bitwise the sums of adding one at a time, in groups of every size and across block ends', () => {
    // 37 updates: groups of 1-4 straddle FLOAT32_BLOCK's ends unless addMany splits them there.
    const us = updates(37, 3);
    const one = new UpdateAccumulator(mixed);
    for (const u of us) one.add(u.numExamples, u.delta, u.rowWeights);
    const expected = one.sums;
    for (const batch of [2, 3, 4, 5, 37]) {
      const fused = new UpdateAccumulator(mixed);
      for (let i = 0; i < us.length; i += batch) fused.addMany(us.slice(i, i + batch));
      const got = fused.sums;
      assert.equal(got.contributors, 37);
      assert.equal(got.weightSum, expected.weightSum);
      assert.deepEqual(got.rowWeightSums, expected.rowWeightSums);
      let differing = 0;
      for (let i = 0; i < length; i++) if (!Object.is(got.weightedDeltaSum[i], expected.weightedDeltaSum[i])) differing++;
      assert.equal(differing, 0, `batches of ${batch}: ${differing} elements differ from one-at-a-time`);
    }
  });

  it('stays within the stated float32 block error of the float64 reference', () => {
    const us = updates(64, 9);
    const fused = new UpdateAccumulator(mixed);
    const reference = new UpdateAccumulator(mixed, { kernel: 'float64' });
    const absolute = new Float64Array(length);
    for (let i = 0; i < us.length; i += 4) fused.addMany(us.slice(i, i + 4));
    for (const u of us) {
      reference.add(u.numExamples, u.delta, u.rowWeights);
      for (let k = 0; k < SIZE; k++) absolute[k]! += Math.abs(u.numExamples * u.delta[k]!);
    }
    const bound = FLOAT32_BLOCK * 2 ** -24;
    let worst = 0;
    for (let k = 0; k < SIZE; k++) worst = Math.max(worst, Math.abs(fused.sums.weightedDeltaSum[k]! - reference.sums.weightedDeltaSum[k]!) / absolute[k]!);
    assert.ok(worst <= bound, `error ${worst} of Σ|n·Δ| exceeds ${bound}`);
    assert.ok(worst > 0, 'the float32 path is in use (a zero error would mean the float64 loop ran)');
  });

  it('the kernel adds exactly what float32 arithmetic in the same order gives, at every length mod 16 and across scratch chunks', async () => {
    // The unrolled loop takes 16 floats per pass, a second loop the next multiples of 4, JavaScript the last
    // 0-3: lengths 1..40 reach every split, and 2·SCRATCH_FLOATS + 37 crosses two chunk ends with a tail.
    const { createAxpy32, MAX_FUSED, SCRATCH_FLOATS } = await import('@fedrec/coordinator/strategy/simd-axpy.js');
    const r = rng(21);
    const lengths = [...Array.from({ length: 40 }, (_, i) => i + 1), 2 * SCRATCH_FLOATS + 37];
    for (const n of lengths) {
      for (let k = 1; k <= MAX_FUSED; k++) {
        const offset = n % 5; // the lanes' start need not be 16-byte aligned
        const kernel = createAxpy32(offset + n + 3)!;
        const start = Float32Array.from({ length: kernel.lanes.length }, () => r() - 0.5);
        kernel.lanes.set(start);
        const xs = Array.from({ length: k }, () => Float32Array.from({ length: n }, () => r() * 8 - 4));
        const ws = Array.from({ length: k }, () => 1 + Math.floor(r() * 50));
        kernel.add(offset, xs, ws);
        for (let i = 0; i < kernel.lanes.length; i++) {
          let v = start[i]!;
          if (i >= offset && i < offset + n) for (let j = 0; j < k; j++) v = Math.fround(v + Math.fround(ws[j]! * xs[j]![i - offset]!));
          assert.ok(Object.is(kernel.lanes[i], v), `length ${n}, ${k} fused: lane ${i} is ${kernel.lanes[i]}, float32 arithmetic gives ${v}`);
        }
      }
    }
  });

  it('refuses a group larger than the kernel takes or of unequal lengths (at the kernel)', async () => {
    const { createAxpy32, MAX_FUSED } = await import('@fedrec/coordinator/strategy/simd-axpy.js');
    const k = createAxpy32(16)!;
    const x = new Float32Array(16);
    assert.throws(() => k.add(0, Array<Float32Array>(MAX_FUSED + 1).fill(x), Array<number>(MAX_FUSED + 1).fill(1)), RangeError);
    assert.throws(() => k.add(0, [x, new Float32Array(8)], [1, 1]), RangeError);
    assert.throws(() => k.add(4, [x], [1]), RangeError);
  });
});
