import type { Redis } from 'ioredis';
import type { BindOutcome, IdentityStore } from '../identity-registry.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * The signed-identity table of a cluster: one Redis hash clientId → device key, so a device that moves
 * to another node keeps its binding and an impostor is refused there too. HSETNX decides a first
 * binding atomically across nodes; bindings are never removed, so "set if absent, else read" is exact.
 * Durable as far as the Redis is: run it with appendonly (docker-compose.yml does).
 */
export class RedisIdentityStore implements IdentityStore {
  /** What this node has seen; only an early refusal in the handshake, never the decision. */
  private readonly cache = new Map<string, string>();
  private count = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async load(): Promise<void> {
    this.count = await this.redis.hlen(this.keys.identities);
  }

  keyOf(clientId: string): string | undefined {
    return this.cache.get(clientId);
  }

  async bind(clientId: string, publicKey: string): Promise<BindOutcome> {
    if ((await this.redis.hsetnx(this.keys.identities, clientId, publicKey)) === 1) {
      this.cache.set(clientId, publicKey);
      this.count += 1;
      return 'bound';
    }
    const existing = await this.redis.hget(this.keys.identities, clientId);
    if (existing === null) throw new Error(`identity of ${clientId} vanished from Redis`);
    this.cache.set(clientId, existing);
    return existing === publicKey ? 'known' : 'mismatch';
  }

  /** Every binding is in Redis once bind resolved. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  get size(): number {
    return this.count;
  }
}
