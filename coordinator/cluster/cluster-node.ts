import { randomBytes } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { ModelUpdated } from '@fedrec/protocol';
import { z } from 'zod';
import type { FitCollector } from '../fit-collector.js';
import type { Logger } from '../logger.js';
import { errorFields, silentLogger } from '../logger.js';
import { NotLeader } from './cluster-hooks.js';
import type { ClusterContext, ClusterHooks } from './cluster-hooks.js';
import { ClusterFitCollector } from './cluster-fit-collector.js';
import { FitOrderRunner } from './fit-order-runner.js';
import { mergeObserved } from './recording-policy.js';
import { LeaderLease } from './leader-lease.js';
import { LeaderRequests } from './leader-requests.js';
import { decodePartial, encodePartial, fitOrderSchema } from './partial-codec.js';
import type { FitOrder, PartialCollection } from './partial-codec.js';
import { RedisIdentityStore } from './redis-identity-store.js';
import { RedisKeys } from './redis-keys.js';
import { ClusterRoundRegistry, MirroredClientRegistry } from './shared-registry.js';
import { applyCheckpoint } from './state-sync.js';
import { isRemote } from './remote-client.js';
import type { ClientSocket } from '../socket-types.js';

export interface ClusterNodeOptions {
  /** redis://host:port[/db] */
  redisUrl: string;
  /** Unique per node; default: random. */
  nodeId?: string;
  /** Key and channel prefix (several clusters can share a Redis). */
  prefix?: string;
  /** Leader lease TTL: a killed leader is replaced within about this long (plus one poll). */
  leaseTtlMs?: number;
  /** How often followers try a free lease. */
  leasePollMs?: number;
  /** Liveness heartbeat; a node missing 3 of them is dead and its clients leave the shared registry. */
  heartbeatMs?: number;
  /** How often the leader re-reads the shared client registry. */
  registryRefreshMs?: number;
  /** How long after the round deadline the leader waits for another node's partial sums. */
  partialGraceMs?: number;
  /** How long a follower waits for the leader's answer to a forwarded rollback (which waits for a round in progress). */
  forwardTimeoutMs?: number;
  logger?: Logger;
}

const commitSchema = z.object({ modelVersion: z.number().int().min(0), roundId: z.number().int() });

export type ClusterNode = ClusterHooks & { readonly isLeader: boolean; readonly redis: Redis };

/**
 * Joins a cluster of coordinator nodes over one Redis (loaded only by `--redis`: a dynamic import).
 * Returns the hooks createCoordinator takes as `options.cluster`.
 */
export async function createClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const node = new RedisClusterNode(options);
  await node.connect();
  return node;
}

class RedisClusterNode implements ClusterNode {
  readonly nodeId: string;
  readonly redis: Redis;
  readonly identities: RedisIdentityStore;
  readonly localRegistry: MirroredClientRegistry;
  readonly roundRegistry: ClusterRoundRegistry;
  private readonly sub: Redis;
  private readonly adapterSub: Redis;
  private readonly keys: RedisKeys;
  private readonly logger: Logger;
  private readonly lease: LeaderLease;
  private readonly leaderRequests: LeaderRequests;
  private readonly abort = new AbortController();
  private readonly partialWaiters = new Map<string, (p: PartialCollection) => void>();
  private readonly settings: Required<Omit<ClusterNodeOptions, 'logger' | 'nodeId' | 'prefix'>>;
  private heartbeat: NodeJS.Timeout | undefined;
  private ctx: ClusterContext | undefined;
  private runner: FitOrderRunner | undefined;
  private inner: FitCollector | undefined;
  /** Loads of committed versions, one at a time. */
  private syncing: Promise<void> = Promise.resolve();

  constructor(o: ClusterNodeOptions) {
    this.nodeId = o.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
    this.keys = new RedisKeys(o.prefix);
    this.logger = (o.logger ?? silentLogger).child({ node: this.nodeId });
    this.settings = {
      redisUrl: o.redisUrl,
      leaseTtlMs: o.leaseTtlMs ?? 3_000,
      leasePollMs: o.leasePollMs ?? 250,
      heartbeatMs: o.heartbeatMs ?? 500,
      registryRefreshMs: o.registryRefreshMs ?? 250,
      partialGraceMs: o.partialGraceMs ?? 2_000,
      forwardTimeoutMs: o.forwardTimeoutMs ?? 600_000,
    };
    // ioredis (not node-redis): Buffer pub/sub ('messageBuffer') for the binary partial sums, EVAL for the
    // lease scripts, and reconnects by itself; the Socket.IO Redis adapter supports it directly.
    const connect = (): Redis => new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.redis = connect();
    this.sub = connect();
    this.adapterSub = connect();
    // ioredis reconnects by itself; a lost Redis is logged (at most once per 5 s per connection), not thrown.
    for (const [name, client] of [
      ['commands', this.redis],
      ['subscriber', this.sub],
      ['adapter', this.adapterSub],
    ] as const) {
      let lastLogged = 0;
      client.on('error', (err: unknown) => {
        if (Date.now() - lastLogged < 5_000) return;
        lastLogged = Date.now();
        this.logger.warn({ connection: name, ...errorFields(err) }, 'Redis connection error');
      });
    }
    this.identities = new RedisIdentityStore(this.redis, this.keys);
    this.localRegistry = new MirroredClientRegistry(this.redis, this.keys, this.nodeId, this.logger);
    this.roundRegistry = new ClusterRoundRegistry(this.localRegistry, this.redis, this.keys, this.nodeId, this.settings.registryRefreshMs, this.logger);
    this.lease = new LeaderLease(this.redis, this.keys, this.nodeId, { ttlMs: this.settings.leaseTtlMs, pollMs: this.settings.leasePollMs }, this.logger, () =>
      this.loadCommitted(),
    );
    this.leaderRequests = new LeaderRequests(this.redis, this.keys, this.nodeId, this.settings.forwardTimeoutMs, this.logger);
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  async connect(): Promise<void> {
    await Promise.all([this.redis.connect(), this.sub.connect(), this.adapterSub.connect()]);
    await this.redis.del(this.keys.clients(this.nodeId));
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), this.settings.heartbeatMs);
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    try {
      await this.redis
        .multi()
        .sadd(this.keys.nodes, this.nodeId)
        .set(this.keys.alive(this.nodeId), String(Date.now()), 'PX', this.settings.heartbeatMs * 3)
        .exec();
    } catch (err) {
      this.logger.warn(errorFields(err), 'heartbeat failed');
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const token = `${this.nodeId}:${randomBytes(4).toString('hex')}`;
    const until = Date.now() + 60_000;
    while ((await this.redis.set(this.keys.initLock, token, 'PX', 30_000, 'NX')) !== 'OK') {
      if (Date.now() > until) throw new Error('cluster init lock not free within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      return await work();
    } finally {
      await this.redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, this.keys.initLock, token);
    }
  }

  async attach(ctx: ClusterContext): Promise<void> {
    this.ctx = ctx;
    await this.identities.load();
    quietUnsubscribe(this.adapterSub);
    ctx.io.adapter(createAdapter(this.redis, this.adapterSub, { key: this.keys.adapter }));
    this.roundRegistry.start(ctx.io);
    this.runner = new FitOrderRunner({
      nodeId: this.nodeId,
      registry: this.localRegistry,
      state: ctx.state,
      keyPair: ctx.keyPair,
      collector: this.inner ?? unavailable,
      catchUp: async (v) => {
        await this.catchUp(v);
      },
      signal: this.abort.signal,
      logger: this.logger,
    });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message));
    await this.sub.subscribe(this.keys.fitOrders(this.nodeId), this.keys.partials(this.nodeId), this.keys.commits, ...this.leaderRequests.channels);
    // Whatever was committed while this node was away.
    await this.loadCommitted();
    this.logger.info({ redis: redact(this.settings.redisUrl) }, 'joined the cluster');
  }

  fitCollector(inner: FitCollector): FitCollector {
    this.inner = inner;
    return new ClusterFitCollector(inner, {
      nodeId: this.nodeId,
      graceMs: this.settings.partialGraceMs,
      sendOrder: async (nodeId, order) => {
        const receivers = await this.redis.publish(this.keys.fitOrders(nodeId), JSON.stringify(order));
        if (receivers === 0) throw new Error(`node ${nodeId} is not subscribed`);
      },
      awaitPartial: (orderId, until, signal) => this.awaitPartial(orderId, until, signal),
      recordObserved: (observed) => {
        if (this.ctx) mergeObserved(this.ctx.state.updatePolicy, observed);
      },
    });
  }

  waitUntilLeader(signal: AbortSignal): Promise<void> {
    return this.lease.waitUntilLeader(signal);
  }

  async refuseUnlessLeader(action: string): Promise<void> {
    if (this.lease.isLeader) return;
    const holder = await this.lease.holder();
    // A lease this node still holds in Redis but no longer trusts (its validity ran out) is no leader either.
    throw new NotLeader(this.nodeId, holder === this.nodeId ? null : holder, action);
  }

  async rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }> {
    const ctx = this.ctx;
    if (!ctx) throw new Error('coordinator not started');
    if (this.lease.isLeader) return ctx.rollback(toVersion, reason);
    const holder = await this.lease.holder();
    // No holder (or a lease this node no longer trusts): a hand-over is in progress, nobody can take it now.
    if (holder === null || holder === this.nodeId) throw new NotLeader(this.nodeId, null, 'a rollback');
    this.logger.info({ leader: holder, toVersion }, 'forwarding a rollback to the leader');
    return this.leaderRequests.ask(holder, { ...(toVersion !== undefined ? { toVersion } : {}), reason });
  }

  async fencedSave(modelVersion: number, save: () => Promise<void>): Promise<void> {
    await this.lease.check(modelVersion);
    await save();
    await this.lease.commit(modelVersion);
  }

  carriesModel(socket: ClientSocket): boolean {
    return isRemote(socket);
  }

  announce(update: ModelUpdated): void {
    this.redis.publish(this.keys.commits, JSON.stringify({ modelVersion: update.modelVersion, roundId: update.roundId })).catch((err: unknown) => {
      this.logger.error(errorFields(err), 'could not announce a commit; telling this node’s clients only');
      this.ctx?.localAnnounce(update);
    });
  }

  async detach(): Promise<void> {
    this.abort.abort();
    this.leaderRequests.close();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.roundRegistry.stop();
    await this.lease.release();
    try {
      await this.redis.multi().del(this.keys.clients(this.nodeId)).del(this.keys.alive(this.nodeId)).srem(this.keys.nodes, this.nodeId).exec();
    } catch (err) {
      this.logger.warn(errorFields(err), 'could not leave the cluster cleanly');
    }
    this.sub.disconnect();
    this.adapterSub.disconnect();
    this.redis.disconnect();
  }

  private onMessage(channel: string, message: Buffer): void {
    // A forwarded rollback runs only while this node leads (it may have lost the lease since it was asked);
    // it is never forwarded again, so two nodes cannot pass one back and forth.
    const runForwarded = async (request: { toVersion?: number; reason: string }) => {
      await this.refuseUnlessLeader('a rollback');
      return this.ctx!.rollback(request.toVersion, request.reason);
    };
    if (this.leaderRequests.onMessage(channel, message, runForwarded)) return;
    if (channel === this.keys.partials(this.nodeId)) {
      let partial: PartialCollection;
      try {
        partial = decodePartial(message);
      } catch (err) {
        this.logger.warn(errorFields(err), 'malformed partial sums dropped');
        return;
      }
      this.partialWaiters.get(partial.orderId)?.(partial);
    } else if (channel === this.keys.fitOrders(this.nodeId)) {
      const parsed = fitOrderSchema.safeParse(safeJson(message));
      if (!parsed.success) return this.logger.warn({ reason: parsed.error.issues[0]?.message }, 'malformed fit order dropped');
      void this.runOrder(parsed.data);
    } else if (channel === this.keys.commits) {
      const parsed = commitSchema.safeParse(safeJson(message));
      if (!parsed.success) return this.logger.warn({ reason: parsed.error.issues[0]?.message }, 'malformed commit dropped');
      const { modelVersion, roundId } = parsed.data;
      this.catchUp(modelVersion).then(
        (loaded) => {
          const ctx = this.ctx;
          if (!ctx) return;
          const record = loaded ? ctx.state.history.find((r) => r.outcome === 'committed' && r.modelVersion === modelVersion) : undefined;
          if (record) ctx.emitCommitted(record);
          ctx.localAnnounce({ modelVersion: ctx.state.modelVersion, roundId });
        },
        (err: unknown) => this.logger.error({ modelVersion, ...errorFields(err) }, 'could not load a committed version'),
      );
    }
  }

  private async runOrder(order: FitOrder): Promise<void> {
    if (!this.runner) return;
    try {
      const partial = await this.runner.run(order);
      await this.redis.publish(this.keys.partials(order.leader), encodePartial(partial));
    } catch (err) {
      this.logger.error({ orderId: order.orderId, ...errorFields(err) }, 'fit order failed');
    }
  }

  private awaitPartial(orderId: string, until: number, signal: AbortSignal): Promise<PartialCollection | undefined> {
    return new Promise((resolve) => {
      const finish = (p: PartialCollection | undefined): void => {
        clearTimeout(timer);
        this.partialWaiters.delete(orderId);
        signal.removeEventListener('abort', onAbort);
        resolve(p);
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.max(1, until - Date.now()));
      this.partialWaiters.set(orderId, finish);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Loads the newest committed version (taking the lease, joining). */
  private async loadCommitted(): Promise<void> {
    const v = await this.redis.hget(this.keys.committed, 'version');
    if (v !== null) await this.catchUp(Number(v));
  }

  /** Loads committed version `modelVersion` from the shared checkpoint directory if this node is behind; true when it did. */
  private catchUp(modelVersion: number): Promise<boolean> {
    const run = this.syncing.then(async () => {
      const ctx = this.ctx;
      if (!ctx || ctx.state.modelVersion >= modelVersion) return false;
      const cp = await ctx.persistence.load(modelVersion);
      if (!cp) throw new Error(`committed version ${modelVersion} has no checkpoint in the shared directory`);
      applyCheckpoint(ctx.state, cp, ctx.strategy);
      this.logger.info({ modelVersion }, 'loaded a committed version');
      return true;
    });
    this.syncing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

const unavailable: FitCollector = {
  name: 'unavailable',
  collect: () => Promise.reject(new Error('cluster node has no collector')),
};

/**
 * The adapter unsubscribes without awaiting when the server closes; with Redis already gone those promises
 * would reject unhandled. A handler is attached (the caller still gets the same promise).
 */
function quietUnsubscribe(client: Redis): void {
  const c = client as unknown as Record<'unsubscribe' | 'punsubscribe', (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = c[method].bind(client);
    c[method] = (...args: unknown[]) => {
      const p = original(...args);
      p.catch(() => undefined);
      return p;
    };
  }
}

function safeJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
