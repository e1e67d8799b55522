import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { errorFields } from '../logger.js';
import type { RedisKeys } from './redis-keys.js';

/** An operator rollback asked of a follower, carried to the node that leads. */
export interface RollbackRequest {
  toVersion?: number;
  reason: string;
}
export interface RollbackResult {
  modelVersion: number;
  from: number;
}

// Everything read off a channel is checked: another process with the Redis password could publish anything.
const requestSchema = z.object({
  id: z.string().min(1).max(64),
  from: z.string().min(1).max(128),
  action: z.literal('rollback'),
  toVersion: z.number().int().min(0).optional(),
  reason: z.string().max(200),
});
const replySchema = z.union([
  z.object({ id: z.string().max(64), ok: z.literal(true), value: z.object({ modelVersion: z.number().int().min(0), from: z.number().int().min(0) }) }),
  z.object({ id: z.string().max(64), ok: z.literal(false), name: z.string().max(64), message: z.string().max(2_000) }),
]);

interface Pending {
  resolve(result: RollbackResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A follower's rollback, forwarded to the leader over Redis pub/sub (a request channel per node, a reply
 * channel per node) rather than refused: the follower knows the leader's node id from the lease, not its
 * address behind a balancer, but every node subscribes to its own channel. The leader runs the rollback
 * as if asked directly and publishes the outcome (its result, or its error's name and message) back.
 */
export class LeaderRequests {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** The channels this node subscribes to for them. */
  get channels(): string[] {
    return [this.keys.leaderRequests(this.nodeId), this.keys.leaderReplies(this.nodeId)];
  }

  /**
   * Asks `leader` to run the rollback. Rejects when it is not subscribed (gone), or does not answer
   * within the timeout (a rollback waits for a round in progress, so the timeout is generous).
   */
  async ask(leader: string, request: RollbackRequest): Promise<RollbackResult> {
    const id = randomBytes(8).toString('hex');
    const answer = new Promise<RollbackResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`node ${leader} leads but did not answer the forwarded rollback within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const message = JSON.stringify({ id, from: this.nodeId, action: 'rollback', ...request });
    const receivers = await this.redis.publish(this.keys.leaderRequests(leader), message).catch((err: unknown) => {
      this.settle(id, new Error(`could not forward the rollback to node ${leader}: ${err instanceof Error ? err.message : String(err)}`));
      return 0;
    });
    if (receivers === 0) this.settle(id, new Error(`node ${leader} holds the lease but is not listening; retry in a few seconds`));
    return answer;
  }

  /** Handles a message on one of `channels`; true when it was one of them. */
  onMessage(channel: string, message: Buffer, run: (request: RollbackRequest) => Promise<RollbackResult>): boolean {
    if (channel === this.keys.leaderReplies(this.nodeId)) {
      const parsed = replySchema.safeParse(safeJson(message));
      if (!parsed.success) this.logger.warn({ reason: parsed.error.issues[0]?.message }, 'malformed leader reply dropped');
      else if (parsed.data.ok) this.settle(parsed.data.id, parsed.data.value);
      else this.settle(parsed.data.id, Object.assign(new Error(parsed.data.message), { name: parsed.data.name }));
      return true;
    }
    if (channel !== this.keys.leaderRequests(this.nodeId)) return false;
    const parsed = requestSchema.safeParse(safeJson(message));
    if (!parsed.success) {
      this.logger.warn({ reason: parsed.error.issues[0]?.message }, 'malformed leader request dropped');
      return true;
    }
    const { id, from, toVersion, reason } = parsed.data;
    void run({ ...(toVersion !== undefined ? { toVersion } : {}), reason }).then(
      (value) => this.reply(from, { id, ok: true, value }),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        return this.reply(from, { id, ok: false, name: e.name.slice(0, 64), message: e.message.slice(0, 2_000) });
      },
    );
    return true;
  }

  /** Leaving the cluster: whoever still waits gets an error now, and no timer stays behind. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new Error('this node left the cluster before the leader answered'));
  }

  private settle(id: string, outcome: RollbackResult | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private async reply(to: string, reply: z.infer<typeof replySchema>): Promise<void> {
    try {
      await this.redis.publish(this.keys.leaderReplies(to), JSON.stringify(reply));
    } catch (err) {
      this.logger.error({ to, ...errorFields(err) }, 'could not answer a forwarded rollback');
    }
  }
}

function safeJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}
