import assert from 'node:assert/strict';
import { generateSignKeyPair, toHex } from '@fedrec/protocol';
import type { IdentityStore } from '@fedrec/coordinator/identity-registry.js';

export interface IdentityStoreFixture {
  store: IdentityStore;
  /** Another instance over the same backing storage (a restart, or another node). */
  reopen(): Promise<IdentityStore>;
  cleanup(): Promise<void>;
}

const key = (): string => toHex(generateSignKeyPair().publicKey);

/** What every IdentityStore must do (the in-memory/file default and the Redis one run it). */
export function identityStoreContract(name: string, make: () => Promise<IdentityStoreFixture>): void {
  describe(`IdentityStore contract: ${name}`, function () {
    this.timeout(20_000);
    let f: IdentityStoreFixture;
    beforeEach(async () => {
      f = await make();
      await f.store.load();
    });
    afterEach(() => f.cleanup());

    it('trust on first use: bound, then known for the same key, mismatch for another', async () => {
      const k = key();
      assert.equal(f.store.keyOf('phone'), undefined);
      assert.equal(await f.store.bind('phone', k), 'bound');
      assert.equal(await f.store.bind('phone', k), 'known');
      assert.equal(await f.store.bind('phone', key()), 'mismatch');
      assert.equal(f.store.keyOf('phone'), k);
      assert.equal(f.store.size, 1);
    });

    it('concurrent first binds of one id with different keys: exactly one wins', async () => {
      const outcomes = await Promise.all([key(), key(), key()].map((k) => f.store.bind('contested', k)));
      assert.deepEqual([...outcomes].sort(), ['bound', 'mismatch', 'mismatch']);
    });

    it('bindings outlive the instance: another one over the same storage refuses an impostor', async () => {
      const k = key();
      assert.equal(await f.store.bind('tablet', k), 'bound');
      await f.store.flush();
      const again = await f.reopen();
      await again.load();
      assert.equal(await again.bind('tablet', key()), 'mismatch');
      assert.equal(await again.bind('tablet', k), 'known');
      assert.equal(again.size, 1);
    });
  });
}
