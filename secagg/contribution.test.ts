import assert from 'node:assert/strict';
import { decodeAggregate, encodeContribution } from './index.js';
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
