import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeCoordinator } from './helpers/fake-coordinator.js';
import { FileStore, MemoryStore, createNodeClient, type BehaviourEvent, type BehaviourStore, type Trainer } from '@fedrec/client-sdk/node/index.js';

const ev = (itemId: string | number, timestamp: number, kind: BehaviourEvent['kind'] = 'view', value?: number): BehaviourEvent => ({
  itemId,
  kind,
  timestamp,
  ...(value !== undefined ? { value } : {}),
});

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'fedrec-store-'));
}

/** One contract every behaviour store must satisfy. */
function storeContract(name: string, make: () => Promise<{ store: BehaviourStore; cleanup: () => Promise<void> }>) {
  describe(`behaviour store contract: ${name}`, function () {
    let store: BehaviourStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ store, cleanup } = await make()));
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('lists events in append order, with since and limit', async () => {
      await store.append(ev(1, 10));
      await store.append([ev('b', 30, 'click'), ev(3, 20, 'rating', 4.5)]);
      assert.equal(await store.count(), 3);
      assert.deepEqual(await store.list(), [ev(1, 10), ev('b', 30, 'click'), ev(3, 20, 'rating', 4.5)]);
      assert.deepEqual(
        (await store.list({ since: 20 })).map((e) => e.itemId),
        ['b', 3],
      );
      assert.deepEqual(
        (await store.list({ limit: 2 })).map((e) => e.itemId),
        ['b', 3],
      );
      assert.deepEqual(await store.list({ limit: 0 }), []);
    });

    it('rejects malformed events and keeps the log unchanged', async () => {
      await store.append(ev(1, 1));
      await assert.rejects(store.append({ itemId: 2, kind: 'like', timestamp: 2 } as unknown as BehaviourEvent));
      await assert.rejects(store.append({ itemId: 2, kind: 'view', timestamp: Number.NaN }));
      assert.equal(await store.count(), 1);
    });

    it('returns copies: mutating a listed event or a read Float32Array does not change the store', async () => {
      await store.append(ev(1, 1));
      const [listed] = await store.list();
      listed!.itemId = 999;
      assert.equal((await store.list())[0]!.itemId, 1);
      const vec = Float32Array.from([1, 2, 3]);
      await store.set('emb', vec);
      vec[0] = 100;
      const read = (await store.get('emb')) as Float32Array;
      assert.ok(read instanceof Float32Array);
      assert.deepEqual([...read], [1, 2, 3]);
      read[1] = 50;
      assert.deepEqual([...((await store.get('emb')) as Float32Array)], [1, 2, 3]);
    });

    it('gets, sets and deletes small state values', async () => {
      assert.equal(await store.get('missing'), undefined);
      await store.set('id', 'client-1');
      await store.set('n', 3);
      await store.set('obj', { a: [1, true, null], v: Float32Array.from([0.5]) });
      assert.equal(await store.get('id'), 'client-1');
      assert.equal(await store.get('n'), 3);
      const obj = (await store.get('obj')) as { a: unknown[]; v: Float32Array };
      assert.deepEqual(obj.a, [1, true, null]);
      assert.deepEqual([...obj.v], [0.5]);
      await store.delete('id');
      assert.equal(await store.get('id'), undefined);
    });

    it('clears events but keeps state', async () => {
      await store.append([ev(1, 1), ev(2, 2)]);
      await store.set('k', 'v');
      await store.clearEvents();
      assert.equal(await store.count(), 0);
      assert.equal(await store.get('k'), 'v');
    });
  });
}

storeContract('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
storeContract('FileStore', async () => {
  const dir = await tempDir();
  return { store: await FileStore.open(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('FileStore persistence', function () {
  let dir: string;
  beforeEach(async () => (dir = await tempDir()));
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('survives reopening: events, ids and Float32Array state come back as written', async () => {
    const first = await FileStore.open(dir);
    await first.append([ev(1, 10, 'click'), ev('x', 11, 'rating', 3)]);
    await first.set('fedrec:clientId', 'client-abc');
    const emb = Float32Array.from([0.1, -2.5, 1e-7, 3.4e38]);
    await first.set('emb', emb);
    await first.close();

    const second = await FileStore.open(dir);
    assert.deepEqual(await second.list(), [ev(1, 10, 'click'), ev('x', 11, 'rating', 3)]);
    assert.equal(await second.get('fedrec:clientId'), 'client-abc');
    const back = (await second.get('emb')) as Float32Array;
    assert.ok(back instanceof Float32Array);
    assert.deepEqual([...back], [...emb]);
    await second.append(ev(2, 12));
    await second.close();
    const third = await FileStore.open(dir);
    assert.equal(await third.count(), 3);
    await third.close();
  });

  it('leaves no temp files behind and never a half-written state file', async () => {
    const store = await FileStore.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, Float32Array.from([i]))));
    await store.close();
    const files = (await fs.readdir(dir)).sort();
    assert.deepEqual(files, ['state.json']);
    const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(Object.keys(state).length, 20);
  });

  it('drops a torn last line left by a crash and keeps appending cleanly', async () => {
    await fs.writeFile(path.join(dir, 'events.jsonl'), JSON.stringify(ev(1, 1)) + '\n' + '{"itemId":2,"ki');
    const store = await FileStore.open(dir);
    assert.deepEqual(await store.list(), [ev(1, 1)]);
    await store.append(ev(3, 3));
    await store.close();
    const reopened = await FileStore.open(dir);
    assert.deepEqual(
      (await reopened.list()).map((e) => e.itemId),
      [1, 3],
    );
    await reopened.close();
  });
});

describe('createNodeClient', function () {
  it('keeps its generated client id and behaviour in a file store across restarts', async () => {
    const dir = await tempDir();
    const server = await startFakeCoordinator();
    const trainer: Trainer = {
      fit: async () => {
        throw new Error('unused');
      },
      evaluate: async () => {
        throw new Error('unused');
      },
    };
    try {
      const first = await createNodeClient({ url: server.url, trainer, storeDir: dir, backend: false });
      await first.record({ itemId: 5, kind: 'purchase', timestamp: 5 });
      const { clientId } = await first.connect();
      await first.close();
      await first.store.close();

      const second = await createNodeClient({ url: server.url, trainer, storeDir: dir, backend: false });
      assert.ok(second.store instanceof FileStore);
      assert.deepEqual(await second.store.list(), [ev(5, 5, 'purchase')]);
      assert.equal((await second.connect()).clientId, clientId);
      assert.deepEqual(
        server.handshakes.map((h) => h.clientId),
        [clientId, clientId],
      );
      await second.close();
    } finally {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
