import assert from 'node:assert/strict';
import { tempDir, until } from '../coordinator/helpers.js';
import { startNode, stopNodes, useRedisServer } from './helpers.js';

const TOKEN = 'operator-token-for-tests';

// Real redis-server (Debian's package), like the other cluster suites.
describe('cluster: a rollback asked of a follower is forwarded to the leader', function () {
  this.timeout(60_000);
  const redis = useRedisServer();

  it('the follower forwards it through Redis (API and POST /api/rollback) and returns the leader engine’s answer', async () => {
    const shared = await tempDir();
    try {
      // minClients 5 and no clients: nobody trains, the engines only contend for the lease.
      const a = await startNode(redis.url, shared.dir, { minClients: 5, operatorToken: TOKEN }, { nodeId: 'node-a', prefix: 'rb:' });
      const b = await startNode(redis.url, shared.dir, { minClients: 5, operatorToken: TOKEN }, { nodeId: 'node-b', prefix: 'rb:' });
      await until(() => a.node.isLeader || b.node.isLeader, 20_000, 'a leader');
      const [leader, follower] = a.node.isLeader ? [a, b] : [b, a];

      // The follower forwards it through Redis: the answer is the leader engine's own (nothing older than
      // version 0 is kept), not a refusal naming the leader.
      await assert.rejects(leader.coordinator.rollback(), /no earlier model is kept to roll back to/);
      await assert.rejects(follower.coordinator.rollback(), (err: Error) => {
        assert.notEqual(err.name, 'NotLeader');
        assert.match(err.message, /no earlier model is kept to roll back to/);
        return true;
      });
      // Hostile messages on the leader's request channel are dropped (validated), and it keeps serving.
      for (const junk of [
        'not json',
        JSON.stringify({ id: 'x', from: 'y', action: 'drop-everything' }),
        JSON.stringify({ id: 'x'.repeat(100), from: 'y', action: 'rollback', reason: '' }),
      ])
        assert.equal(await follower.node.redis.publish(`rb:leader-request:${leader.node.nodeId}`, junk), 1);
      // A rollback the leader can make, asked of the follower over HTTP: version 0's weights served as version 1,
      // committed by the leader, loaded by the follower like any commit.
      const res = await fetch(`${follower.url}/api/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ toVersion: 0 }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { modelVersion: 1, from: 0 });
      assert.equal(leader.coordinator.modelVersion, 1, 'the leader committed it');
      // Polled, not waitForVersion: a follower loads a rolled-back version without a 'round:committed' record to announce.
      await until(() => follower.coordinator.modelVersion === 1, 20_000, 'the follower to load version 1');
      // A request that names no version the leader keeps: the leader's refusal, through the follower (409).
      const bad = await fetch(`${follower.url}/api/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ toVersion: 99 }),
      });
      assert.equal(bad.status, 409);
      const leaderAnswer = await leader.coordinator.rollback(99).then(
        () => 'resolved',
        (err: Error) => err.message,
      );
      assert.equal(((await bad.json()) as { error: string }).error, leaderAnswer, 'the leader’s own answer, through the follower');
      assert.equal(leader.coordinator.modelVersion, 1);
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
});
