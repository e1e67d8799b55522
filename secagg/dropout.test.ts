import assert from 'node:assert/strict';
import { aggregateErrorBounds, decodeAggregate, neighbourCount, runInMemoryRound, thresholdFor, type SecAggCompleted } from './index.js';
import { config, contributions, encodeAll, ids, layout, maxAbsDiff, plainSums } from './testing/helpers.js';

/** Every third client, shuffled by a fixed stride, so dropouts are spread over the graph as in life. */
function pick(clients: string[], fraction: number, offset = 0): string[] {
  const count = Math.round(fraction * clients.length);
  return Array.from({ length: count }, (_, i) => clients[(offset + i * 37) % clients.length]!);
}

describe('secagg+ under real dropout (Bell et al. parameters, cheap unmasking)', function () {
  this.timeout(600_000); // 100 clients × 66 neighbours of X25519 and Shamir: minutes on a loaded machine

  it('completes at n=100 with 30% dropping after share keys and a few silent at unmask; the sum is exact within quantization', async () => {
    const cfg = config({ mode: 'secagg+' }); // neighbours and threshold 'auto', dropoutRate 0.3
    const clients = ids(100);
    assert.equal(neighbourCount(cfg, 100), 66);
    const cs = contributions(clients, 11);
    const dropped = pick(clients, 0.3);
    const survivors = clients.filter((c) => !dropped.includes(c));
    const silentAtUnmask = survivors.slice(0, 3); // their inputs count; their pairs with dropped peers fall back to rebuilt keys
    const { outcome, server } = await runInMemoryRound({
      roundId: 9,
      config: cfg,
      inputs: encodeAll(cs, cfg),
      validate: true,
      dropBefore: { 'masked-input': dropped, unmask: silentAtUnmask },
    });
    assert.equal(outcome.status, 'completed', outcome.status === 'abandoned' ? outcome.reason : '');
    // Every survivor's self mask came out while the unmask replies arrived (at its t-th seed share), none in finish().
    assert.equal(server.selfMasksPending, 0);
    const done = outcome as SecAggCompleted;
    assert.equal(done.contributors.length, 70);
    const sums = decodeAggregate(done.sum, 70, layout, cfg);
    const plain = plainSums(cs, survivors);
    const bound = aggregateErrorBounds(70, cfg);
    assert.ok(maxAbsDiff(sums.weightedDeltaSum, plain.weightedDeltaSum) <= bound.weightedDelta);
    assert.ok(Math.abs(sums.weightSum - plain.weightSum) <= bound.weight);
  });

  it('the old log2 n graph (k=8, t=5) abandons the same round: why the parameters changed', async () => {
    const cfg = config({ mode: 'secagg+', neighbours: 8, threshold: 0.5 });
    const clients = ids(100);
    // The neighbour graph comes from each round's random seed, so one round abandons with probability about
    // 0.985 (each of 70 survivors needs 4 of its 8 neighbours alive); of three rounds, at least one must.
    const statuses: string[] = [];
    for (const roundId of [9, 10, 11]) {
      const { outcome } = await runInMemoryRound({
        roundId,
        config: cfg,
        inputs: encodeAll(contributions(clients, 11), cfg),
        dropBefore: { 'masked-input': pick(clients, 0.3) },
      });
      statuses.push(outcome.status);
    }
    assert.ok(statuses.includes('abandoned'), `old parameters completed every round: ${statuses.join(', ')}`);
  });

  it('fails cleanly, naming the threshold, when dropout far exceeds what the parameters tolerate (85% at n=100)', async () => {
    const cfg = config({ mode: 'secagg+' });
    const clients = ids(100);
    const t = thresholdFor(cfg, neighbourCount(cfg, 100) + 1, 100);
    const { outcome, server } = await runInMemoryRound({
      roundId: 9,
      config: cfg,
      inputs: encodeAll(contributions(clients, 12), cfg),
      // At 60% a random graph still completes now and then (each survivor keeps ~26 of 66 neighbours, t=24);
      // at 85% a dropped client keeps ~10 surviving share holders, so the round abandons with certainty in practice.
      dropBefore: { 'masked-input': pick(clients, 0.85) },
    });
    assert.equal(outcome.status, 'abandoned');
    assert.match(outcome.status === 'abandoned' ? outcome.reason : '', new RegExp(`threshold ${t}\\b`));
    assert.equal(server.stage, 'abandoned');
  });
});
