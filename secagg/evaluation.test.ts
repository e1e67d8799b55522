import assert from 'node:assert/strict';
import { decodeEvaluation, encodeEvaluation, runInMemoryRound } from './index.js';
import { config, ids } from './testing/helpers.js';

describe('secure evaluation (masked metric sums)', () => {
  const metrics = ['hr10', 'ndcg10', 'loss'];

  it('the unmasked sum decodes to the example-weighted means of what the devices evaluated', async () => {
    const cfg = config({ mode: 'secagg+', maxWeight: 1000, quantizationBits: 22 });
    const clients = ids(8);
    const results = clients.map((_, i) => ({ numExamples: 1 + (i % 3), metrics: { hr10: i % 2, ndcg10: (i % 2) * 0.4, loss: 0.3 + 0.05 * i } }));
    const inputs = new Map(clients.map((id, i) => [id, encodeEvaluation(results[i]!, metrics, cfg)]));
    const { outcome } = await runInMemoryRound({ roundId: 2, config: cfg, inputs, validate: true });
    assert.equal(outcome.status, 'completed');
    const decoded = decodeEvaluation(outcome.status === 'completed' ? outcome.sum : new Uint32Array(0), clients.length, metrics, cfg);
    const n = results.reduce((s, r) => s + r.numExamples, 0);
    assert.ok(Math.abs(decoded.numExamples - n) < 0.01);
    for (const name of metrics) {
      const mean = results.reduce((s, r) => s + r.numExamples * r.metrics[name as 'hr10']!, 0) / n;
      assert.ok(Math.abs(decoded.metrics[name]! - mean) < 0.01, `${name}: ${decoded.metrics[name]} vs ${mean}`);
    }
  });

  it('no examples decode to no metrics (never a NaN loss that would read as a collapse)', () => {
    const cfg = config({ mode: 'secagg+' });
    const v = encodeEvaluation({ numExamples: 0, metrics: { loss: 1 } }, metrics, cfg);
    assert.deepEqual(decodeEvaluation(v, 1, metrics, cfg), { numExamples: 0, metrics: {} });
  });
});
