import assert from 'node:assert/strict';
import { addInto, decodeAggregate, dequantizeSum, encodeContribution, maxSummands, quantizationStep, quantizeInto, sumErrorBound } from '@fedrec/secagg';
import { fedAvg } from '@fedrec/coordinator/strategy/fedavg-math.js';
import type { AggregateSums } from '@fedrec/protocol';
import { config, contributions, encodeAll, ids, layout, manifest, maxAbsDiff, plainSums, seededUniform } from '@fedrec/secagg/testing/helpers.js';

/** The coordinator's FedAvg (the only one) on a bare shared body. */
const fedAvgBody = (global: Float32Array, sums: AggregateSums, serverLr = 1) => fedAvg({ manifest, body: global }, sums, serverLr).body;

describe('secagg quantization (fixed point modulo 2^32)', () => {
  it('round-trips single values within step/2 (nearest) and clips out-of-range values', () => {
    const bits = 16;
    const values = [0, 0.5, -0.5, 0.999, -1, 1, 3.7, -42];
    const q = new Uint32Array(values.length);
    quantizeInto(values, 1, bits, q);
    const back = dequantizeSum(q, 1, bits, 1);
    const step = quantizationStep(1, bits);
    values.forEach((v, i) => assert.ok(Math.abs(back[i]! - Math.max(-1, Math.min(1, v))) <= step / 2 + 1e-15, `value ${v}`));
    assert.throws(() => quantizeInto([NaN], 1, bits, q), RangeError);
  });

  it('sums of negative and positive encodings wrap modulo 2^32 and decode to the true sum', () => {
    const bits = 24;
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    quantizeInto([-0.75, 0.25], 1, bits, a);
    quantizeInto([-0.5, 0.5], 1, bits, b);
    assert.ok(a[0]! > 2 ** 31, 'a negative value is stored as a large uint32');
    addInto(a, b); // -0.75 + -0.5 wraps past 2^32
    const sum = dequantizeSum(a, 1, bits, 2);
    assert.ok(Math.abs(sum[0]! + 1.25) <= sumErrorBound(1, bits, 2, false));
    assert.ok(Math.abs(sum[1]! - 0.75) <= sumErrorBound(1, bits, 2, false));
  });

  it('decodes the largest sum the bits allow, and refuses more summands', () => {
    const bits = 22;
    const n = maxSummands(bits);
    assert.equal(n, Math.floor((2 ** 31 - 1) / (2 ** 21 - 1)));
    const one = new Uint32Array(1);
    quantizeInto([1], 1, bits, one);
    const sum = new Uint32Array(1);
    for (let i = 0; i < n; i++) addInto(sum, one);
    assert.ok(Math.abs(dequantizeSum(sum, 1, bits, n)[0]! - n) < 1e-9, 'n full-scale values do not overflow');
    assert.throws(() => dequantizeSum(sum, 1, bits, n + 1), /overflow/);
  });

  it('stochastic rounding is unbiased where round-to-nearest loses small values', () => {
    const bits = 10;
    const step = quantizationStep(1, bits);
    const tiny = Array.from({ length: 20_000 }, () => 0.3 * step);
    const q = new Uint32Array(tiny.length);
    quantizeInto(tiny, 1, bits, q, 0, seededUniform(5));
    const mean = dequantizeSum(q, 1, bits, 1).reduce((s, x) => s + x, 0) / tiny.length;
    assert.ok(Math.abs(mean - 0.3 * step) < 0.03 * step, `stochastic mean ${mean / step} steps`);
    quantizeInto(tiny, 1, bits, q);
    assert.equal(
      dequantizeSum(q, 1, bits, 1).reduce((s, x) => s + x, 0),
      0,
    );
  });

  it('weighted contributions decode to Σ w·Δ, Σ n and Σ w_r, and FedAvg from them matches the plain update', () => {
    for (const rounding of ['nearest', 'stochastic'] as const) {
      const cfg = config({ rounding });
      const clients = ids(25);
      const cs = contributions(clients, 21);
      const sum = new Uint32Array(layout.vectorLength);
      for (const v of encodeAll(cs, cfg).values()) addInto(sum, v);
      const sums = decodeAggregate(sum, clients.length, layout, cfg);
      const plain = plainSums(cs, clients);
      const step = quantizationStep(cfg.clipRange * cfg.maxWeight, cfg.quantizationBits);
      const bound = (clients.length * step) / (rounding === 'nearest' ? 2 : 1);
      assert.ok(maxAbsDiff(sums.weightedDeltaSum, plain.weightedDeltaSum) <= bound);
      assert.ok(Math.abs(sums.weightSum - plain.weightSum) <= bound);
      const global = new Float32Array(layout.deltaLength).fill(0.5);
      const viaSecagg = fedAvgBody(global, sums, 1);
      const viaPlain = fedAvgBody(global, { ...plain, contributors: clients.length }, 1);
      assert.ok(maxAbsDiff(viaSecagg, viaPlain) < 1e-4);
    }
  });

  it('a row nobody touched stays exactly unchanged, and out-of-range inputs are clipped not wrapped', () => {
    const cfg = config({ rounding: 'stochastic' });
    const delta = new Float32Array(layout.deltaLength).fill(50); // far beyond clipRange 1
    const rowWeights = new Float32Array(layout.rowWeightsLength).fill(0);
    rowWeights[1] = 1e9; // beyond maxWeight 100
    const enc = encodeContribution({ numExamples: 1e9, delta, rowWeights }, layout, cfg);
    const sums = decodeAggregate(enc, 1, layout, cfg);
    assert.ok(Math.abs(sums.weightSum - cfg.maxWeight) < 1e-3);
    assert.ok(Math.abs(sums.weightedDeltaSum[0]! - cfg.maxWeight * cfg.clipRange) < 1e-3);
    assert.equal(sums.rowWeightSums[0], 0);
    const global = new Float32Array(layout.deltaLength).fill(0.25);
    const next = fedAvgBody(global, sums);
    const item = layout.tables[0]!;
    for (let j = item.offset; j < item.offset + item.cols; j++) assert.equal(next[j], global[j], 'row 0 untouched');
    assert.throws(() => encodeContribution({ numExamples: -1, delta, rowWeights }, layout, cfg), RangeError);
  });
});
