import assert from 'node:assert/strict';
import { addInto, contributionLayout, decodeAggregate, decodeClipBitSum, encodeContribution } from './index.js';
import { l2Scale } from './contribution.js';
import { config, layout } from './testing/helpers.js';

describe('secagg contribution: the client-side L2 norm bound', () => {
  const n = 10;
  const rowWeights = new Float32Array(layout.rowWeightsLength).fill(n);
  const delta = Float32Array.from({ length: layout.deltaLength }, (_, i) => (i % 2 ? 0.8 : -0.6));
  const norm = Math.sqrt(delta.reduce((s, x) => s + x * x, 0));

  it('scales the whole delta to the bound before masking, keeping its direction', () => {
    const cfg = config({ normBound: norm / 4, rounding: 'nearest' });
    const sums = decodeAggregate(encodeContribution({ numExamples: n, delta, rowWeights }, layout, cfg), 1, layout, cfg);
    const sent = Array.from(sums.weightedDeltaSum, (x) => x / n);
    const sentNorm = Math.sqrt(sent.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(sentNorm - norm / 4) < 1e-3, `norm ${sentNorm}, bound ${norm / 4}`);
    sent.forEach((x, i) => assert.ok(Math.abs(x - delta[i]! / 4) < 1e-3, `element ${i}`));
  });

  it('leaves a delta inside the bound (or without one) unchanged', () => {
    assert.equal(l2Scale(delta, undefined), 1);
    assert.equal(l2Scale(delta, norm * 2), 1);
    assert.ok(Math.abs(l2Scale(delta, norm / 2) - 0.5) < 1e-9);
  });
});

describe('secagg contribution: the clipping bit of adaptive DP clipping', () => {
  const manifest = { tensors: [{ name: 'w', shape: [3, 2], dtype: 'float32' as const, shared: true, rowwise: true }] };
  const plainLayout = contributionLayout(manifest);
  const bitLayout = contributionLayout(manifest, { clipBitStd: 0.25 });
  const c = { numExamples: 1, delta: new Float32Array(6).fill(0.1), rowWeights: new Float32Array(3).fill(1) };

  it('adds one word at the end, ranged ±(1/2 + 8σ), whose sum decodes apart from the model sums', () => {
    assert.equal(bitLayout.vectorLength, plainLayout.vectorLength + 1);
    assert.equal(bitLayout.clipBitRange, 0.5 + 8 * 0.25);
    const cfg = config({ rounding: 'nearest' });
    const bits = [0.5, -0.5, 0.5 + 0.3, -0.5 - 1.9]; // shifted bits, two with noise
    const sum = new Uint32Array(bitLayout.vectorLength);
    for (const clipBit of bits) addInto(sum, encodeContribution({ ...c, clipBit }, bitLayout, cfg));
    assert.ok(Math.abs(decodeClipBitSum(sum, bits.length, bitLayout, cfg) - bits.reduce((a, b) => a + b, 0)) < 1e-4);
    const sums = decodeAggregate(sum, bits.length, bitLayout, cfg);
    assert.ok(Math.abs(sums.weightSum - bits.length) < 1e-3, 'the weight word is untouched by the bit');
    assert.equal(sums.rowWeightSums.length, 3);
  });

  it('refuses a missing, extra or non-finite bit, a bad noise std, and decoding a bit the layout lacks', () => {
    const cfg = config();
    assert.throws(() => encodeContribution(c, bitLayout, cfg), /masks a clipping bit and the contribution has none/);
    assert.throws(() => encodeContribution({ ...c, clipBit: 0.5 }, plainLayout, cfg), /does not mask one/);
    assert.throws(() => encodeContribution({ ...c, clipBit: Number.NaN }, bitLayout, cfg), /must be finite/);
    assert.throws(() => contributionLayout(manifest, { clipBitStd: -1 }), /finite number ≥ 0/);
    assert.throws(() => decodeClipBitSum(new Uint32Array(plainLayout.vectorLength), 1, plainLayout, cfg), /no clipping bit/);
  });
});
