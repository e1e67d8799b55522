import assert from 'node:assert/strict';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { tempDir, until } from '../coordinator/helpers.js';
import { startNode, stopNodes } from './helpers.js';

const TOKEN = 'operator-token-for-tests';

// Real redis-server (Debian's package), like the other cluster suites.
describe('cluster: a rollback asked of a follower names the leader', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());
  afterEach(stopNodes);

  it('the follower refuses (API and POST /api/rollback: 409) naming the node that leads; the leader takes it', async () => {
    const shared = await tempDir();
    try {
      // minClients 5 and no clients: nobody trains, the engines only contend for the lease.
      const a = await startNode(redis.url, shared.dir, { minClients: 5, operatorToken: TOKEN }, { nodeId: 'node-a', prefix: 'rb:' });
      const b = await startNode(redis.url, shared.dir, { minClients: 5, operatorToken: TOKEN }, { nodeId: 'node-b', prefix: 'rb:' });
      await until(() => a.node.isLeader || b.node.isLeader, 20_000, 'a leader');
      const [leader, follower] = a.node.isLeader ? [a, b] : [b, a];
      const leaderId = leader.node.nodeId;

      await assert.rejects(follower.coordinator.rollback(0), (err: Error) => {
        assert.equal(err.name, 'NotLeader');
        assert.match(err.message, new RegExp(`node ${follower.node.nodeId} is a follower: node ${leaderId} leads; send the request to it`));
        return true;
      });
      const res = await fetch(`${follower.url}/api/rollback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ toVersion: 0 }),
      });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { error: string }).error, new RegExp(`node ${leaderId} leads`));

      // The leader passes the check and reaches the engine's own answer (nothing older than version 0 is kept).
      await assert.rejects(leader.coordinator.rollback(), /no earlier model is kept to roll back to/);
      assert.equal(follower.coordinator.modelVersion, 0);
      assert.equal(leader.coordinator.modelVersion, 0);
    } finally {
      await stopNodes();
      await shared.remove();
    }
  });
});
