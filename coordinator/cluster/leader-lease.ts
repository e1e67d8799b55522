import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { errorFields } from '../logger.js';
import type { RedisKeys } from './redis-keys.js';

/** Takes the lease when it is free, with the next fencing token in its value. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = redis.call('INCR', KEYS[2])
local token = ARGV[1] .. ':' .. fence
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token`;

/** Extends the lease only while it still carries our token. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Checks (mode 'check') or records (mode 'commit') version ARGV[2] under token ARGV[1]: only while the
 * lease carries that token, and only when the version is the next one (or the same version re-saved by
 * the same leader, e.g. after its evaluation). 1 = ok, -1 = not the lease holder, -2 = not the next version.
 */
const FENCE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local current = tonumber(redis.call('HGET', KEYS[2], 'version') or '-1')
local holder = redis.call('HGET', KEYS[2], 'token')
local v = tonumber(ARGV[2])
if not (current == -1 or current == v - 1 or (current == v and holder == ARGV[1])) then return -2 end
if ARGV[3] == 'commit' then redis.call('HSET', KEYS[2], 'version', v, 'token', ARGV[1], 'at', ARGV[4]) end
return 1`;

export class FencedOut extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedOut';
  }
}

export interface LeaseOptions {
  /** How long a lease lives without renewal: the bound on a leader hand-over after a kill -9. */
  ttlMs: number;
  /** How often a free lease is tried for (followers). */
  pollMs: number;
}

/**
 * One leader per cluster with a single Redis: SET NX PX with a fencing token (an INCR counter) in its
 * value, renewed every ttl/3. What this guarantees with ONE Redis (no Redlock across several, whose
 * timing assumptions Kleppmann's critique shows unsafe): at most one node holds a given token; the
 * committed-version record only moves forward under the current token (the FENCE script), so no version
 * is committed twice or by a deposed leader. A node believes it leads only until `validUntil` (lease
 * start + ttl − a drift margin, on its own clock), and checks the token in Redis before writing a
 * checkpoint; a process paused longer than that margin between the check and the write could still
 * write a checkpoint file, but cannot commit it (the record refuses it) and so never serves it.
 */
export class LeaderLease {
  private token: string | undefined;
  private validUntil = 0;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly options: LeaseOptions,
    private readonly logger: Logger,
    /** Called once each time this node becomes leader, before rounds run (loads the newest committed state). */
    private readonly onAcquired: (token: string) => Promise<void>,
  ) {}

  /** The lease token while this node believes it leads, else undefined. */
  get current(): string | undefined {
    return this.token !== undefined && Date.now() < this.validUntil ? this.token : undefined;
  }

  get isLeader(): boolean {
    return this.current !== undefined;
  }

  /** The node holding the lease now, as Redis says (null when it is free); the value is "nodeId:fence". */
  async holder(): Promise<string | null> {
    const value = await this.redis.get(this.keys.lease);
    if (value === null) return null;
    const at = value.lastIndexOf(':');
    return at > 0 ? value.slice(0, at) : value;
  }

  async waitUntilLeader(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.isLeader) {
      const started = Date.now();
      let token: string | null = null;
      try {
        token = (await this.redis.eval(ACQUIRE, 2, this.keys.lease, this.keys.fence, this.nodeId, this.options.ttlMs)) as string | null;
      } catch (err) {
        this.logger.warn(errorFields(err), 'lease acquisition failed (Redis unreachable?)');
      }
      if (token) {
        this.token = token;
        this.validUntil = started + this.safeTtl();
        this.startRenewing();
        this.logger.info({ token }, 'took the leader lease');
        try {
          await this.onAcquired(token);
        } catch (err) {
          this.logger.error(errorFields(err), 'could not load the committed state after taking the lease; giving it up');
          await this.release();
          continue;
        }
        return;
      }
      await sleepUnlessAborted(this.options.pollMs, signal);
    }
  }

  /** Throws FencedOut unless this node holds the lease and `modelVersion` is the next version to commit. */
  async check(modelVersion: number): Promise<string> {
    return this.fence(modelVersion, 'check');
  }

  /** Records `modelVersion` as committed (after its checkpoint is durable); throws FencedOut if deposed meanwhile. */
  async commit(modelVersion: number): Promise<string> {
    return this.fence(modelVersion, 'commit');
  }

  private async fence(modelVersion: number, mode: 'check' | 'commit'): Promise<string> {
    const token = this.current;
    if (token === undefined) throw new FencedOut(`node ${this.nodeId} does not hold the leader lease`);
    const result = Number(await this.redis.eval(FENCE, 2, this.keys.lease, this.keys.committed, token, modelVersion, mode, Date.now()));
    if (result === -1) {
      this.lost('the lease carries another token');
      throw new FencedOut(`node ${this.nodeId} lost the leader lease (token ${token})`);
    }
    if (result !== 1) throw new FencedOut(`version ${modelVersion} is not the next version to commit`);
    return token;
  }

  async release(): Promise<void> {
    const token = this.token;
    this.stopRenewing();
    this.token = undefined;
    if (token === undefined) return;
    await this.redis.eval(RELEASE, 1, this.keys.lease, token).catch(() => undefined);
  }

  private safeTtl(): number {
    // Clock drift between this node and Redis, and the request's own latency: 1% + 5 ms off the TTL.
    return this.options.ttlMs - Math.ceil(this.options.ttlMs * 0.01) - 5;
  }

  private startRenewing(): void {
    this.stopRenewing();
    const every = Math.max(10, Math.floor(this.options.ttlMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async renew(): Promise<void> {
    const token = this.token;
    if (token === undefined) return;
    const started = Date.now();
    try {
      const ok = Number(await this.redis.eval(RENEW, 1, this.keys.lease, token, this.options.ttlMs));
      if (ok === 1 && this.token === token) this.validUntil = started + this.safeTtl();
      else if (ok !== 1) this.lost('renewal refused');
    } catch (err) {
      // Unreachable Redis: keep the old validUntil, which runs out by itself.
      this.logger.warn(errorFields(err), 'lease renewal failed');
    }
  }

  private lost(why: string): void {
    if (this.token === undefined) return;
    this.logger.warn({ token: this.token, why }, 'lost the leader lease');
    this.stopRenewing();
    this.token = undefined;
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
