import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, type Coordinator, type CoordinatorOptions } from '@fedrec/coordinator';
import { addCatalogueItems, createFederatedClient, FederatedClientError, MemoryStore, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import type { CatalogueItem, CatalogueSnapshot } from '@fedrec/protocol';

const NUM_ITEMS = 60;
const TOKEN = 'catalogue-test-token';
const sku = (i: number): string => `sku-${i}`;
const initialCatalogue = (): CatalogueItem[] => Array.from({ length: NUM_ITEMS }, (_, i) => ({ id: sku(i), tags: [i % 2 ? 'odd' : 'even'] }));

interface Device {
  client: FederatedClient;
  trainer: LiveRecsysTrainer;
  store: MemoryStore;
  seen: Set<string>;
}

describe('end to end: app item ids and a growing catalogue over real Socket.IO', function () {
  this.timeout(120_000);
  const coordinators: Coordinator[] = [];
  const clients: FederatedClient[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const c of coordinators.splice(0)) await c.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function start(extra: Partial<CoordinatorOptions> = {}): Promise<{ coordinator: Coordinator; url: string; port: number }> {
    const options = recsysModelOptions(NUM_ITEMS);
    const coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: 3,
      minResults: 3,
      roundTimeoutMs: 30_000,
      rounds: 'continuous',
      authToken: TOKEN,
      // The same string doubles as the operator credential that catalogue writes need.
      operatorToken: TOKEN,
      modelSpec: { name: 'neumf', options },
      initialWeights: neumfModel.initialWeights(options, 3),
      trainingConfig: recsysTrainingConfig(),
      catalogue: initialCatalogue(),
      ...extra,
    } as CoordinatorOptions);
    coordinators.push(coordinator);
    const { url, port } = await coordinator.start();
    return { coordinator, url, port };
  }

  async function device(url: string, d: number, events = 10): Promise<Device> {
    const store = new MemoryStore();
    const trainer = new LiveRecsysTrainer({ store, user: d, engine: 'js' });
    const client = createFederatedClient({
      url,
      clientId: `phone-${d}`,
      store,
      token: TOKEN,
      backend: false,
      trainer,
      reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    });
    clients.push(client);
    const rng = new SeededRandom(20 + d);
    const seen = new Set<string>();
    for (let i = 0; i < events; i++) {
      const id = sku(rng.int(NUM_ITEMS));
      seen.add(id);
      await client.record({ itemId: id, kind: i % 4 === 0 ? 'view' : 'click' });
    }
    return { client, trainer, store, seen };
  }

  function modelUpdatedTo(client: FederatedClient, version: number): Promise<void> {
    if ((client.modelVersion ?? -1) >= version) return Promise.resolve();
    return new Promise((resolve) => {
      const off = client.on('model:updated', (u) => {
        if (u.modelVersion >= version) {
          off();
          resolve();
        }
      });
    });
  }

  it('round-trips string ids through record, training and recommend; grows mid-run and old clients go on', async () => {
    const { coordinator, url } = await start();
    const devices = await Promise.all([0, 1, 2].map((d) => device(url, d)));
    // An event for an id the catalogue does not have yet: kept, not used.
    await devices[0]!.client.record({ itemId: 'new-0', kind: 'click' });
    for (const d of devices) await d.client.connect();
    await coordinator.waitForVersion(2, 60_000);

    const before = await devices[0]!.client.recommend(10);
    assert.equal(before.length, 10);
    for (const r of before) {
      assert.match(r.itemId, /^sku-\d+$/);
      assert.equal(r.itemId, sku(r.item), 'the app id names the model row through the catalogue');
      assert.ok(!devices[0]!.seen.has(r.itemId), `${r.itemId} was already seen`);
    }
    assert.ok(!(await devices[0]!.trainer.liked()).ids.includes('new-0'));
    assert.ok(
      coordinator.catalogue().popularity.some((p) => p > 0),
      'committed rounds feed the popularity',
    );

    // Grow the catalogue while the clients are connected and rounds are running.
    const added = await addCatalogueItems(url, [{ id: 'new-0', tags: ['even'], title: 'A new even item' }, { id: 'new-1', tags: ['odd'] }, { id: 'new-2' }], {
      token: TOKEN,
    });
    assert.deepEqual(
      added.added.map((a) => [a.id, a.row]),
      [
        ['new-0', NUM_ITEMS],
        ['new-1', NUM_ITEMS + 1],
        ['new-2', NUM_ITEMS + 2],
      ],
    );
    assert.equal(added.numItems, NUM_ITEMS + 3);
    assert.equal(added.catalogueVersion, 1);
    assert.equal(coordinator.status().modelSpec.options['numItems'], NUM_ITEMS + 3);
    const grownAt = added.modelVersion;
    // Training goes on with the grown model; the clients that joined before take part.
    await coordinator.waitForVersion(grownAt + 2, 60_000);
    const after = coordinator.history().filter((r) => r.outcome === 'committed' && r.baseModelVersion >= grownAt);
    assert.ok(after.length >= 1);
    for (const r of after) assert.deepEqual([...r.participants].sort(), ['phone-0', 'phone-1', 'phone-2']);
    await Promise.all(devices.map((d) => modelUpdatedTo(d.client, grownAt + 2)));

    // The old client now knows the new ids: its kept event counts, and the new items are recommendable.
    const recs = await devices[1]!.client.recommend(NUM_ITEMS + 3);
    assert.equal(devices[1]!.client.catalogue.version, 1);
    assert.ok(recs.some((r) => r.itemId === 'new-1') && recs.some((r) => r.itemId === 'new-2'));
    for (const r of recs) assert.equal(r.itemId, r.item < NUM_ITEMS ? sku(r.item) : `new-${r.item - NUM_ITEMS}`);
    const liked = await devices[0]!.trainer.liked();
    assert.ok(liked.ids.includes('new-0'), 'the event recorded before the id existed is used now');
    assert.ok(!(await devices[0]!.client.recommend(NUM_ITEMS)).some((r) => r.itemId === 'new-0'), 'a liked new item is not recommended back');

    // The grown rows were set from the tag means (not zero), and the REST catalogue serves additions with an ETag.
    const res = await fetch(`${url}/api/catalogue?since=0`);
    assert.equal(res.status, 200);
    const since = (await res.json()) as CatalogueSnapshot;
    assert.deepEqual(
      since.items.map((i) => i.id),
      ['new-0', 'new-1', 'new-2'],
    );
    assert.equal(since.items[0]!.title, 'A new even item');
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${url}/api/catalogue?since=0`, { headers: { 'if-none-match': etag } });
    // Popularity may have moved with a round in between; either way the answer is consistent.
    assert.ok(again.status === 304 || again.headers.get('etag') !== etag);
  });

  it('refuses bad ids and bad POSTs with codes, and changes nothing', async () => {
    const { coordinator, url } = await start({ minClients: 1, minResults: 1 });
    const d = await device(url, 7, 0);
    for (const bad of ['', 'has space', 'quote"d', 'x'.repeat(129), -1, 1.5, null, { id: 1 }]) {
      await assert.rejects(
        d.client.record({ itemId: bad as string, kind: 'click' }),
        (err: unknown) => err instanceof FederatedClientError && err.code === 'INVALID_PAYLOAD',
        `record(${JSON.stringify(bad)})`,
      );
    }
    assert.equal(await d.store.count(), 0);

    const version = coordinator.modelVersion;
    const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
      fetch(`${url}/api/catalogue/items`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const cases: Array<[Response, number, string]> = [
      [await post(JSON.stringify({ items: [{ id: 'fresh' }] }), {}), 401, 'UNAUTHORIZED'],
      [await post(JSON.stringify({ items: [{ id: 'fresh' }] }), { authorization: 'Bearer wrong' }), 401, 'UNAUTHORIZED'],
      [await post('{not json'), 400, 'INVALID_PAYLOAD'],
      [await post(JSON.stringify({ items: [] })), 400, 'INVALID_PAYLOAD'],
      [await post(JSON.stringify({ items: [{ id: 'bad id' }] })), 400, 'INVALID_PAYLOAD'],
      [await post(JSON.stringify({ items: [{ id: 'a' }, { id: 'a' }] })), 400, 'INVALID_PAYLOAD'],
      [await post(JSON.stringify({ items: [{ id: 'a', extra: 1 }] })), 400, 'INVALID_PAYLOAD'],
      [await post(JSON.stringify({ items: [{ id: sku(3) }] })), 409, 'DUPLICATE_ITEM'],
      [await post(JSON.stringify({ items: [{ id: 'x'.repeat(100), title: 'y'.repeat(200) }] }).padEnd(9 * 1024 * 1024, ' ')), 413, 'TOO_LARGE'],
    ];
    for (const [res, status, code] of cases) {
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    await assert.rejects(
      addCatalogueItems(url, [{ id: 'fresh' }], { token: 'wrong' }),
      (err: unknown) => err instanceof FederatedClientError && err.code === 'UNAUTHORIZED',
    );
    await assert.rejects(
      addCatalogueItems(url, [{ id: sku(0) }], { token: TOKEN }),
      (err: unknown) => err instanceof FederatedClientError && err.code === 'DUPLICATE_ITEM',
    );
    assert.equal(coordinator.modelVersion, version);
    assert.equal(coordinator.catalogue().catalogueVersion, 0);
    assert.equal(coordinator.catalogue().numItems, NUM_ITEMS);
    const bad = await fetch(`${url}/api/catalogue?since=abc`);
    assert.equal(bad.status, 400);
  });

  it('refuses growth in a fixed-round run', async () => {
    const { coordinator, url } = await start({ rounds: 5 });
    await assert.rejects(
      addCatalogueItems(url, [{ id: 'fresh' }], { token: TOKEN }),
      (err: unknown) => err instanceof FederatedClientError && err.code === 'CATALOGUE_CLOSED',
    );
    assert.equal(coordinator.catalogue().numItems, NUM_ITEMS);
  });

  it('persists the catalogue with the checkpoint and restores it after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedrec-catalogue-'));
    dirs.push(dir);
    const first = await start({ checkpointDir: dir });
    const grown = first.coordinator.waitForVersion(1, 30_000); // a growth commits a version, as a round does
    const added = await first.coordinator.addCatalogueItems([{ id: 'later-1', tags: ['odd'] }, { id: 'later-2' }]);
    assert.equal(added.modelVersion, 1);
    await grown;
    const weights = Float32Array.from(first.coordinator.currentWeights().body);
    const catalogue = first.coordinator.catalogue();
    await first.coordinator.stop();

    const second = await start({ checkpointDir: dir, port: first.port });
    assert.equal(second.coordinator.modelVersion, 1);
    assert.deepEqual(second.coordinator.catalogue(), catalogue);
    assert.equal(second.coordinator.status().modelSpec.options['numItems'], NUM_ITEMS + 2);
    assert.deepEqual(Array.from(second.coordinator.currentWeights().body), Array.from(weights));
    // A welcome announces the restored catalogue version, and the client fetches it.
    const d = await device(second.url, 0, 3);
    await d.client.connect();
    const copy = await d.client.fetchCatalogue();
    assert.equal(copy.version, 1);
    assert.equal(copy.idOf(NUM_ITEMS + 1), 'later-2');
    assert.equal(copy.rowOf('later-1', NUM_ITEMS + 2), NUM_ITEMS);
  });

  it('runs a secure-aggregation round on a model with more rows after growth', async () => {
    const { coordinator, url } = await start({
      secureAggregation: 'secagg',
      secAgg: { maxWeight: 100, advertiseTimeoutMs: 10_000, shareKeysTimeoutMs: 10_000, unmaskTimeoutMs: 10_000 },
    });
    const devices = await Promise.all([0, 1, 2].map((d) => device(url, d)));
    await devices[2]!.client.record({ itemId: 'secure-new', kind: 'purchase' });
    await devices[2]!.client.record({ itemId: 'secure-new-2', kind: 'click' });
    for (const d of devices) await d.client.connect();
    await coordinator.waitForVersion(1, 60_000);
    const added = await coordinator.addCatalogueItems([{ id: 'secure-new', tags: ['even'] }, { id: 'secure-new-2' }]);
    await coordinator.waitForVersion(added.modelVersion + 1, 60_000);
    const round = coordinator.history().find((r) => r.outcome === 'committed' && r.baseModelVersion === added.modelVersion);
    assert.ok(round, 'a round on the grown model committed');
    assert.equal(round.participants.length, 3);
    assert.ok(coordinator.catalogue().popularity[NUM_ITEMS]! > 0, 'the new row was trained under secure aggregation');
  });
});
