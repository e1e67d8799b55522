import assert from 'node:assert/strict';
import { aggregateErrorBounds, decodeAggregate, runInMemoryRound, SecAggClient, SecAggError, type SecAggCompleted, type SecAggServer } from './index.js';
import { type SecAggConfig } from '@fedrec/protocol';
import { config, contributions, encodeAll, ids, layout, maxAbsDiff, plainSums } from './testing/helpers.js';

function assertSumMatches(outcome: SecAggCompleted, cs: ReturnType<typeof contributions>, cfg: SecAggConfig, expectedContributors: string[]): void {
  assert.deepEqual(outcome.contributors, [...expectedContributors].sort());
  const sums = decodeAggregate(outcome.sum, outcome.contributors.length, layout, cfg);
  const plain = plainSums(cs, expectedContributors);
  const bound = aggregateErrorBounds(outcome.contributors.length, cfg);
  assert.ok(maxAbsDiff(sums.weightedDeltaSum, plain.weightedDeltaSum) <= bound.weightedDelta, 'Σ w·Δ within n·step');
  assert.ok(Math.abs(sums.weightSum - plain.weightSum) <= bound.weight, 'Σ n within n·step');
  assert.ok(maxAbsDiff(sums.rowWeightSums, plain.rowWeightSums) <= bound.weight, 'Σ w_r within n·step');
  // The bound is tight enough to mean something: far below the values themselves.
  assert.ok(bound.weightedDelta < 0.01 * Math.max(...plain.weightedDeltaSum.map(Math.abs)));
}

describe('secagg round (in memory)', () => {
  for (const mode of ['secagg', 'secagg+'] as const) {
    it(`${mode}: the unmasked sum equals the plain weighted sums within the quantization bound`, async () => {
      const cfg = config({ mode, neighbours: 4 });
      const clients = ids(12);
      const cs = contributions(clients, 1);
      const { outcome } = await runInMemoryRound({ roundId: 3, config: cfg, inputs: encodeAll(cs, cfg), validate: true });
      assert.equal(outcome.status, 'completed');
      assertSumMatches(outcome as SecAggCompleted, cs, cfg, clients);
    });
  }

  it('recovers when clients drop after advertising, after sharing keys, and after sending masked input', async () => {
    const cfg = config({ mode: 'secagg' });
    const clients = ids(10);
    const cs = contributions(clients, 2);
    const { outcome } = await runInMemoryRound({
      roundId: 1,
      config: cfg,
      inputs: encodeAll(cs, cfg),
      dropBefore: { 'share-keys': ['client-000'], 'masked-input': ['client-001', 'client-002'], unmask: ['client-003'] },
    });
    assert.equal(outcome.status, 'completed');
    const done = outcome as SecAggCompleted;
    assert.deepEqual(done.droppedAfterShareKeys, ['client-001', 'client-002']);
    // client-003 sent its input before going silent: it is in the sum.
    assertSumMatches(
      done,
      cs,
      cfg,
      clients.filter((c) => !['client-000', 'client-001', 'client-002'].includes(c)),
    );
  });

  it('secagg+: correct sum with dropouts over a k-regular symmetric graph, threshold a majority of the neighbourhood', async () => {
    const cfg = config({ mode: 'secagg+', neighbours: 6 });
    const clients = ids(30);
    const cs = contributions(clients, 3);
    const dropped = ['client-004', 'client-017'];
    const {
      outcome,
      server,
      clients: sessions,
    } = await runInMemoryRound({ roundId: 9, config: cfg, inputs: encodeAll(cs, cfg), dropBefore: { 'masked-input': dropped } });
    assert.equal(outcome.status, 'completed');
    assertSumMatches(
      outcome as SecAggCompleted,
      cs,
      cfg,
      clients.filter((c) => !dropped.includes(c)),
    );
    for (const id of clients) {
      const neighbours = server.neighboursOf(id);
      assert.equal(neighbours.length, 6, 'k-regular');
      for (const peer of neighbours) assert.ok(server.neighboursOf(peer).includes(id), 'symmetric');
      assert.equal(sessions.get(id)!.stage, dropped.includes(id) ? 'receive-shares' : 'done');
      assert.deepEqual(sessions.get(id)!.shareHolders, [], 'secrets forgotten after the round');
    }
    assert.equal(server.thresholdCount, 4, 'strict majority of a group of 7');
  });

  it('secagg+: shares held before unmasking come from graph neighbours only', async () => {
    const cfg = config({ mode: 'secagg+', neighbours: 4 });
    const clients = ids(15);
    const inputs = encodeAll(contributions(clients, 4), cfg);
    let server: SecAggServer | null = null;
    const holdersSeen = new Map<string, string[]>();
    const origMask = SecAggClient.prototype.maskInput;
    SecAggClient.prototype.maskInput = function (this: SecAggClient, input: Uint32Array) {
      holdersSeen.set(this.clientId, this.shareHolders);
      return origMask.call(this, input);
    };
    try {
      const run = await runInMemoryRound({ roundId: 2, config: cfg, inputs });
      server = run.server;
      assert.equal(run.outcome.status, 'completed');
    } finally {
      SecAggClient.prototype.maskInput = origMask;
    }
    for (const id of clients) assert.deepEqual([...holdersSeen.get(id)!].sort(), [...server.neighboursOf(id)]);
  });

  it('abandons with an explicit result, and unmasks nothing, when too many drop before masked input', async () => {
    const cfg = config({ mode: 'secagg' });
    const clients = ids(8); // threshold 5 of 8
    let unmaskCalls = 0;
    const { outcome } = await runInMemoryRound({
      roundId: 1,
      config: cfg,
      inputs: encodeAll(contributions(clients, 5), cfg),
      dropBefore: { 'masked-input': clients.slice(0, 4) },
      observer: { clientStep: (_id, stage) => void (stage === 'unmask' && unmaskCalls++) },
    });
    assert.equal(outcome.status, 'abandoned');
    assert.equal(outcome.status === 'abandoned' && outcome.stage, 'masked-input');
    assert.equal(unmaskCalls, 0, 'no client was asked for shares');
    assert.ok(!('sum' in outcome));
  });

  it('abandons when too few answer the unmasking request', async () => {
    const cfg = config({ mode: 'secagg' });
    const clients = ids(8);
    const { outcome, server } = await runInMemoryRound({
      roundId: 1,
      config: cfg,
      inputs: encodeAll(contributions(clients, 6), cfg),
      dropBefore: { unmask: clients.slice(0, 4) },
    });
    assert.equal(outcome.status, 'abandoned');
    assert.equal(server.stage, 'abandoned');
    await assert.rejects(server.finish(), SecAggError);
  });

  it('abandons at stage 1 when too few share keys', async () => {
    const cfg = config({ mode: 'secagg' });
    const clients = ids(6); // threshold 4 of 6
    const { outcome } = await runInMemoryRound({
      roundId: 1,
      config: cfg,
      inputs: encodeAll(contributions(clients, 7), cfg),
      dropBefore: { 'share-keys': clients.slice(0, 3) },
    });
    assert.equal(outcome.status === 'abandoned' && outcome.stage, 'share-keys');
  });

  it('abandons at stage 0 below three clients or when the bits cannot hold the sum', async () => {
    const two = await runInMemoryRound({ roundId: 1, config: config({ mode: 'secagg' }), inputs: encodeAll(contributions(ids(2), 8), config()) });
    assert.equal(two.outcome.status, 'abandoned');
    const cfg = config({ mode: 'secagg', quantizationBits: 30 }); // at most 4 summands
    const wide = await runInMemoryRound({ roundId: 1, config: cfg, inputs: encodeAll(contributions(ids(5), 8), cfg) });
    assert.match(wide.outcome.status === 'abandoned' ? wide.outcome.reason : '', /exceed/);
  });
});
