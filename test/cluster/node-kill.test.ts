import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createFederatedClient, MemoryStore } from '@fedrec/client-sdk';
import type { FederatedClient } from '@fedrec/client-sdk';
import { CheckpointStore } from '@fedrec/coordinator/checkpoint-store.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { startBalancer } from '../../scripts/cluster-balancer.js';
import type { Balancer } from '../../scripts/cluster-balancer.js';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { connectFakeClient, tempDir, until } from '../coordinator/helpers.js';
import type { FakeClient } from '../coordinator/helpers.js';
import { DeterministicTrainer } from '../e2e/fixtures/deterministic-trainer.js';
import { TEST_NODE_ARGS, spawnNode } from '../../scripts/cluster-node-process.js';
import type { NodeProcess } from '../../scripts/cluster-node-process.js';

const LEASE_TTL_MS = 1_500;
// logistic with 3 features shares kernel [3,1] and bias [1]: 4 floats.
const update = (step: number) => ({ numExamples: 5, metrics: {}, delta: new Float32Array(4).fill(step) });

/** Polls until `probe` yields a value, generously (a loaded 2-core machine runs these). */
async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Each node is the real CLI (`npm start -- --redis ...`) in its own process, so kill -9 is a real crash.
describe('cluster: kill -9 of a node (real redis-server, node processes)', function () {
  this.timeout(180_000);
  let redisServer: RedisServer;
  let redis: Redis;
  let shared: { dir: string; remove(): Promise<void> };
  let nodes: NodeProcess[] = [];
  const fakes: FakeClient[] = [];
  const sdks: FederatedClient[] = [];
  let balancer: Balancer | undefined;

  beforeEach(async () => {
    redisServer = await startRedisServer();
    redis = new Redis(redisServer.url);
    shared = await tempDir();
  });
  afterEach(async () => {
    for (const c of fakes.splice(0)) c.close();
    for (const c of sdks.splice(0)) await c.close();
    await balancer?.close();
    await Promise.all(nodes.map((n) => n.kill9()));
    nodes = [];
    redis.disconnect();
    await redisServer.stop();
    await shared.remove();
  });

  const committed = async (): Promise<number> => Number((await redis.hget('fedrec:committed', 'version')) ?? -1);
  const leaderId = async (): Promise<string | undefined> => (await redis.get('fedrec:lease'))?.split(':')[0];

  it('leader killed mid-round: another node takes the lease within the TTL bound and commits the next version; none lost or reused', async () => {
    const args = [...TEST_NODE_ARGS, '--min-clients', '2', '--min-results', '1', '--round-timeout-ms', '4000', '--lease-ttl-ms', String(LEASE_TTL_MS)];
    // The first node creates the shared key file; the others start together.
    nodes.push(await spawnNode(redisServer.url, shared.dir, 'n1', args));
    nodes.push(...(await Promise.all(['n2', 'n3'].map((id) => spawnNode(redisServer.url, shared.dir, id, args)))));
    // Two clients on each node; they take 300 ms to answer, so a round is in flight most of the time.
    for (const [i, n] of nodes.entries()) {
      for (const k of [0, 1]) {
        fakes.push(
          await connectFakeClient(n.url, {
            clientId: `c${i}${k}`,
            fit: async () => {
              await new Promise((r) => setTimeout(r, 300));
              return { kind: 'update', payload: update(0.01 * (i + 1)) };
            },
          }),
        );
      }
    }
    await waitFor(async () => ((await committed()) >= 2 ? true : undefined), 60_000, 'two committed versions');
    const oldLeader = await waitFor(leaderId, 10_000, 'a leader');
    const victim = nodes.find((n) => n.nodeId === oldLeader)!;
    // Mid-round: a client of every node holds a task of the current version.
    const before = await committed();
    await until(() => fakes.some((c) => c.tasks.some((t) => t.modelVersion === before)), 20_000, 'a round in flight');
    const killedAt = Date.now();
    await victim.kill9();
    const newLeader = await waitFor(
      async () => {
        const id = await leaderId();
        return id !== undefined && id !== oldLeader ? id : undefined;
      },
      LEASE_TTL_MS + 10_000,
      'a new leader',
    );
    const handOverMs = Date.now() - killedAt;
    // The lease expires within its TTL; a follower polls every 250 ms. Slack for a loaded machine.
    assert.ok(handOverMs <= LEASE_TTL_MS + 250 + 2_000, `lease handed over in ${handOverMs} ms (TTL ${LEASE_TTL_MS} ms)`);
    await waitFor(async () => ((await committed()) >= before + 2 ? true : undefined), 60_000, 'two more versions after the kill');
    const token = await redis.hget('fedrec:committed', 'token');
    assert.ok(token?.startsWith(`${newLeader}:`), `the newest version was committed under the new leader's token (${token})`);

    // Every committed version has its checkpoint; each round's record builds on the version before (no gap, no reuse).
    const store = new CheckpointStore(shared.dir, 3, silentLogger);
    const last = await committed();
    for (let v = Math.max(1, last - 2); v <= last; v++) {
      const cp = await store.load(v);
      assert.ok(cp, `checkpoint of version ${v}`);
      const record = cp.history.filter((r) => r.outcome === 'committed').at(-1);
      assert.equal(record?.modelVersion, v);
      assert.equal(record?.baseModelVersion, v - 1);
    }
    // What clients were told: strictly increasing versions, never one announced twice.
    for (const c of fakes) {
      const versions = c.updates.map((u) => u.modelVersion);
      assert.deepEqual(
        versions,
        [...new Set(versions)].sort((a, b) => a - b),
        `${c.clientId} heard ${versions.join(',')}`,
      );
    }
    console.log(`      leader ${oldLeader} killed; ${newLeader} took the lease in ${handOverMs} ms (TTL ${LEASE_TTL_MS} ms); versions ${before} -> ${last}`);
  });

  it('non-leader killed: its SDK clients reconnect through the balancer to another node and the rounds go on with them', async () => {
    const args = [...TEST_NODE_ARGS, '--min-clients', '3', '--min-results', '1', '--round-timeout-ms', '4000', '--lease-ttl-ms', String(LEASE_TTL_MS)];
    nodes.push(await spawnNode(redisServer.url, shared.dir, 'n1', args));
    nodes.push(...(await Promise.all(['n2', 'n3'].map((id) => spawnNode(redisServer.url, shared.dir, id, args)))));
    const lb = await startBalancer(() =>
      nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => ({ host: '127.0.0.1', port: n.port })),
    );
    balancer = lb;
    for (let d = 0; d < 6; d++) {
      const client = createFederatedClient({
        url: lb.url,
        clientId: `phone-${d}`,
        backend: false,
        store: new MemoryStore(),
        trainer: new DeterministicTrainer(d),
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
      });
      await client.connect();
      sdks.push(client);
    }
    await waitFor(async () => ((await committed()) >= 1 ? true : undefined), 60_000, 'a committed version');
    const leader = await waitFor(leaderId, 10_000, 'a leader');
    // A follower that holds clients (round-robin gave each node two).
    const counts = await Promise.all(nodes.map(async (n) => ({ n, clients: await redis.hkeys(`fedrec:clients:${n.nodeId}`) })));
    const victim = counts.find((c) => c.n.nodeId !== leader && c.clients.length > 0);
    assert.ok(victim, `a follower with clients: ${counts.map((c) => `${c.n.nodeId}=${c.clients.length}`).join(' ')}`);
    await victim.n.kill9();
    const moved = victim.clients;
    const survivors = nodes.filter((n) => n !== victim.n);
    // Its clients reconnect (SDK backoff) through the balancer, which skips the dead node.
    await waitFor(
      async () => {
        const held = (await Promise.all(survivors.map((n) => redis.hkeys(`fedrec:clients:${n.nodeId}`)))).flat();
        return moved.every((id) => held.includes(id)) ? true : undefined;
      },
      30_000,
      `clients ${moved.join(', ')} on the surviving nodes`,
    );
    const after = await committed();
    // The rounds go on, and the moved clients train in them on their new node.
    await waitFor(
      async () => {
        if ((await committed()) < after + 2) return undefined;
        const cp = await new CheckpointStore(shared.dir, 3, silentLogger).load(await committed());
        const participants = new Set(cp?.history.filter((r) => r.outcome === 'committed' && r.modelVersion > after).flatMap((r) => r.participants));
        return moved.every((id) => participants.has(id)) ? true : undefined;
      },
      60_000,
      'rounds with the moved clients',
    );
    for (const c of sdks) assert.equal(c.connected, true);
  });
});
