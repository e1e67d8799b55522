import assert from 'node:assert/strict';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { CheckpointStore } from '@fedrec/coordinator/checkpoint-store.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { SHARED, connectFakeClient, constantUpdate, startCoordinator, stopAll, tempDir, until } from '../coordinator/helpers.js';
import type { FakeClient, FitAnswer } from '../coordinator/helpers.js';
import { NO_BOUNDS, startNode, stopNodes } from './helpers.js';

// Real redis-server (Debian's package): without it this suite fails and says how to install it.
describe('cluster: two nodes over Redis give the single-node model', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  const clients: FakeClient[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopNodes();
    await stopAll();
  });

  const answers: Record<'alice' | 'bob', () => FitAnswer> = {
    alice: () => ({ kind: 'update', payload: constantUpdate(0.125, 10, 3) }),
    bob: () => ({ kind: 'update', payload: constantUpdate(-0.75, 30, 1) }),
  };

  it('a client on node A and one on node B in the same round: same weights as one node, on both nodes', async () => {
    // The reference: one coordinator, both clients.
    const single = await startCoordinator({ minClients: 2, rounds: 1, updatePolicy: NO_BOUNDS });
    for (const id of ['alice', 'bob'] as const) clients.push(await connectFakeClient(single.url, { clientId: id, fit: answers[id] }));
    await single.coordinator.waitForVersion(1, 20_000);
    const expected = single.coordinator.currentWeights().body;
    for (const c of clients.splice(0)) c.close();

    const shared = await tempDir();
    try {
      const a = await startNode(redis.url, shared.dir, { minClients: 2, rounds: 1 }, { nodeId: 'a', prefix: 'two:' });
      const b = await startNode(redis.url, shared.dir, { minClients: 2, rounds: 1 }, { nodeId: 'b', prefix: 'two:' });
      clients.push(await connectFakeClient(a.url, { clientId: 'alice', fit: answers.alice }));
      clients.push(await connectFakeClient(b.url, { clientId: 'bob', fit: answers.bob }));
      // The follower loads the version from the shared checkpoints and emits round:committed for its own listeners.
      await Promise.all([a.coordinator.waitForVersion(1, 30_000), b.coordinator.waitForVersion(1, 30_000)]);
      const leader = a.node.isLeader ? a : b;
      const record = leader.coordinator.history().find((r) => r.outcome === 'committed');
      assert.deepEqual([...(record?.participants ?? [])].sort(), ['alice', 'bob'], 'both nodes’ clients are in the one round');
      for (const n of [a, b]) {
        const got = n.coordinator.currentWeights().body;
        assert.equal(got.length, expected.length);
        for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-6, `weight ${i}: ${got[i]} vs ${expected[i]}`);
        assert.notDeepEqual([...got], new Array(got.length).fill(0), 'the model moved');
      }
      // Both clients hear of version 1 from their own node.
      await until(() => clients.every((c) => c.updates.some((u) => u.modelVersion === 1)), 10_000, 'model:updated on both nodes');
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
  it('adaptive norm bound: the leader learns it from both nodes’ updates and checkpoints it with the version every node loads', async () => {
    const adaptive = { normBound: { mode: 'adaptive', minSamples: 1 }, weightCap: { mode: 'adaptive' }, rowNormBound: 'off' } as const;
    const shared = await tempDir();
    try {
      const opts = { minClients: 2, rounds: 2, updatePolicy: adaptive };
      const a = await startNode(redis.url, shared.dir, opts, { nodeId: 'a', prefix: 'norms:' });
      const b = await startNode(redis.url, shared.dir, opts, { nodeId: 'b', prefix: 'norms:' });
      clients.push(await connectFakeClient(a.url, { clientId: 'alice', fit: answers.alice }));
      clients.push(await connectFakeClient(b.url, { clientId: 'bob', fit: answers.bob }));
      await Promise.all([a.coordinator.waitForVersion(2, 30_000), b.coordinator.waitForVersion(2, 30_000)]);
      const leader = a.node.isLeader ? a : b;
      assert.equal(leader.coordinator.history().filter((r) => r.outcome === 'committed' && r.participants.length === 2).length, 2);
      // Version 2's checkpoint (what every node loads) holds both rounds' norms and weights, from both nodes:
      // alice 0.125·√SHARED with 10 examples, bob 0.75·√SHARED with 30, twice each.
      const cp = await new CheckpointStore(shared.dir, 10, silentLogger).load(2);
      const policy = cp?.policyState;
      assert.ok(policy, 'the checkpoint carries the update policy');
      const norm = (step: number) => step * Math.sqrt(SHARED);
      const sorted = [...policy.norms].sort((x, y) => x - y);
      assert.equal(sorted.length, 4, `norms ${sorted.join(', ')}`);
      for (const [i, want] of [norm(0.125), norm(0.125), norm(0.75), norm(0.75)].entries()) assert.ok(Math.abs(sorted[i]! - want) < 1e-5);
      assert.deepEqual(
        [...policy.weights].sort((x, y) => x - y),
        [10, 10, 30, 30],
      );
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
  it('evaluation reaches the clients of the other node through the Socket.IO Redis adapter', async () => {
    const shared = await tempDir();
    try {
      const a = await startNode(redis.url, shared.dir, { minClients: 2, rounds: 1, evaluateEvery: 1 }, { nodeId: 'a', prefix: 'eval:' });
      const b = await startNode(redis.url, shared.dir, { minClients: 2, rounds: 1, evaluateEvery: 1 }, { nodeId: 'b', prefix: 'eval:' });
      const evaluated: string[] = [];
      for (const [id, n] of [
        ['alice', a],
        ['bob', b],
      ] as const) {
        clients.push(
          await connectFakeClient(n.url, {
            clientId: id,
            fit: answers[id],
            evaluate: () => {
              evaluated.push(id);
              return { ok: true, value: { numExamples: id === 'alice' ? 1 : 3, metrics: { loss: id === 'alice' ? 0.5 : 0.25 } } };
            },
          }),
        );
      }
      await until(() => a.coordinator.modelVersion >= 1 && b.coordinator.modelVersion >= 1, 30_000, 'version 1 on both nodes');
      const leader = a.node.isLeader ? a : b;
      await until(() => leader.coordinator.history().some((r) => r.evaluation !== null), 20_000, 'an evaluation');
      const evaluation = leader.coordinator.history().find((r) => r.evaluation !== null)!.evaluation!;
      assert.deepEqual([...evaluation.participants].sort(), ['alice', 'bob']);
      assert.ok(Math.abs(evaluation.metrics['loss']! - (0.5 * 1 + 0.25 * 3) / 4) < 1e-9, `example-weighted loss ${evaluation.metrics['loss']}`);
      assert.deepEqual([...evaluated].sort(), ['alice', 'bob']);
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
});
