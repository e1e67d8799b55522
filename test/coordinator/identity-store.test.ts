import { join } from 'node:path';
import { Redis } from 'ioredis';
import { IdentityRegistry } from '@fedrec/coordinator/identity-registry.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { RedisIdentityStore } from '@fedrec/coordinator/cluster/redis-identity-store.js';
import { RedisKeys } from '@fedrec/coordinator/cluster/redis-keys.js';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { tempDir } from './helpers.js';
import { identityStoreContract } from './identity-store.contract.js';

identityStoreContract('IdentityRegistry (memory + JSON-lines file)', async () => {
  const t = await tempDir();
  const file = join(t.dir, 'identities.jsonl');
  return { store: new IdentityRegistry(file, silentLogger), reopen: async () => new IdentityRegistry(file, silentLogger), cleanup: t.remove };
});

// A real redis-server (Debian's package); missing, this suite fails and says how to install it.
describe('RedisIdentityStore', function () {
  this.timeout(30_000);
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server?.stop());

  let n = 0;
  identityStoreContract('RedisIdentityStore (one Redis hash, HSETNX)', async () => {
    const keys = new RedisKeys(`contract-${n++}:`);
    const clients: Redis[] = [];
    const open = (): RedisIdentityStore => {
      const r = new Redis(server.url);
      clients.push(r);
      return new RedisIdentityStore(r, keys);
    };
    return {
      store: open(),
      reopen: async () => open(),
      cleanup: async () => {
        for (const c of clients) c.disconnect();
      },
    };
  });
});
