import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ClientRegistry } from '../client-registry.js';
import type { Logger } from '../logger.js';
import { errorFields } from '../logger.js';
import type { ClientSocket, CoordinatorServer } from '../socket-types.js';
import type { ClientInfo } from '../strategy/strategy.js';
import type { RoundRegistry } from './cluster-hooks.js';
import type { RedisKeys } from './redis-keys.js';
import { RemoteClient } from './remote-client.js';

const entrySchema = z.object({ socketId: z.string().min(1), connectedAt: z.number() });

/** This node's registry, mirrored into Redis (clients:<node>) so the leader can select every node's clients. */
export class MirroredClientRegistry extends ClientRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  override add(socket: ClientSocket): ClientSocket | undefined {
    const previous = super.add(socket);
    const entry = JSON.stringify({ socketId: socket.id, connectedAt: socket.data.connectedAt });
    this.redis
      .hset(this.keys.clients(this.nodeId), socket.data.clientId, entry)
      .catch((err: unknown) => this.logger.warn(errorFields(err), 'could not share a client'));
    return previous;
  }

  override remove(socket: ClientSocket): boolean {
    const removed = super.remove(socket);
    if (removed) this.redis.hdel(this.keys.clients(this.nodeId), socket.data.clientId).catch(() => undefined);
    return removed;
  }
}

interface RemoteEntry {
  nodeId: string;
  socketId: string;
  connectedAt: number;
}

/**
 * What the leader's round engine selects from: its own sockets plus every live node's clients, read
 * from Redis every `refreshMs` (a node that stops heart-beating drops out with its clients within its
 * liveness TTL). A client on two nodes at once (moving) counts once: the local socket, else the newest.
 */
export class ClusterRoundRegistry implements RoundRegistry {
  private remote = new Map<string, RemoteEntry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();
  private io: CoordinatorServer | undefined;

  constructor(
    private readonly local: ClientRegistry,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {}

  start(io: CoordinatorServer): void {
    this.io = io;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    void this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const wake of this.waiters) wake();
  }

  /** Re-reads every live node's clients. */
  async refresh(): Promise<void> {
    try {
      const nodes = (await this.redis.smembers(this.keys.nodes)).filter((n) => n !== this.nodeId);
      const next = new Map<string, RemoteEntry>();
      for (const nodeId of nodes) {
        if (!(await this.redis.exists(this.keys.alive(nodeId)))) continue;
        const all = await this.redis.hgetall(this.keys.clients(nodeId));
        for (const [clientId, raw] of Object.entries(all)) {
          const parsed = entrySchema.safeParse(safeJson(raw));
          if (!parsed.success) continue;
          const known = next.get(clientId);
          if (!known || known.connectedAt < parsed.data.connectedAt) next.set(clientId, { nodeId, ...parsed.data });
        }
      }
      this.remote = next;
      for (const wake of this.waiters) wake();
    } catch (err) {
      this.logger.warn(errorFields(err), 'could not read the shared client registry');
    }
  }

  get(clientId: string): ClientSocket | undefined {
    const local = this.local.get(clientId);
    if (local) return local;
    const r = this.remote.get(clientId);
    if (!r || !this.io) return undefined;
    return new RemoteClient(this.io, r.nodeId, r.socketId, clientId, r.connectedAt).asSocket();
  }

  list(): ClientInfo[] {
    const out = this.local.list();
    const seen = new Set(out.map((c) => c.clientId));
    for (const [clientId, r] of this.remote) if (!seen.has(clientId)) out.push({ clientId, connectedAt: r.connectedAt });
    return out;
  }

  get size(): number {
    return this.list().length;
  }

  waitForCount(count: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.size >= count || signal.aborted) {
          this.waiters.delete(check);
          signal.removeEventListener('abort', check);
          resolve();
        }
      };
      this.waiters.add(check);
      signal.addEventListener('abort', check, { once: true });
      check();
    });
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
