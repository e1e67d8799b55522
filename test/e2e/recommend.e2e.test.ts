import assert from 'node:assert/strict';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { createFederatedClient, FederatedClientError, MemoryStore, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { logisticDevice } from './fixtures/logistic-device.js';

const NUM_ITEMS = 150;

describe('end to end: record() behaviour and recommend() on the device', function () {
  this.timeout(60_000);
  let coordinator: Coordinator | undefined;
  const clients: FederatedClient[] = [];

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await coordinator?.stop();
  });

  it('recommends unseen items from the global model before and after rounds; the model only travels down', async () => {
    const options = recsysModelOptions(NUM_ITEMS);
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: 3,
      rounds: 2,
      modelSpec: { name: 'neumf', options },
      initialWeights: neumfModel.initialWeights(options, 2),
      trainingConfig: recsysTrainingConfig(),
    });
    const { url } = await coordinator.start();
    const devices: Array<{ client: FederatedClient; trainer: LiveRecsysTrainer; seen: Set<number> }> = [];
    for (let d = 0; d < 3; d++) {
      const store = new MemoryStore();
      const trainer = new LiveRecsysTrainer({ store, user: d, engine: 'js' });
      const client = createFederatedClient({ url, clientId: `phone-${d}`, store, backend: false, trainer });
      clients.push(client);
      const rng = new SeededRandom(10 + d);
      const seen = new Set<number>();
      for (let i = 0; i < 12; i++) {
        const item = rng.int(NUM_ITEMS);
        seen.add(item);
        await client.record({ itemId: item, kind: i % 3 === 0 ? 'view' : 'click' });
      }
      devices.push({ client, trainer, seen });
    }
    // Before any round: the client fetches model v0 and ranks on the device.
    await devices[0]!.client.connect();
    const early = await devices[0]!.client.recommend(5);
    assert.equal(early.length, 5);
    for (const r of early) {
      assert.ok(!devices[0]!.seen.has(r.item), `item ${r.item} was already seen`);
      assert.ok(r.item >= 0 && r.item < NUM_ITEMS && r.score > 0 && r.score < 1);
    }
    assert.ok(
      early.every((r, i) => i === 0 || early[i - 1]!.score >= r.score),
      'best first',
    );

    for (const d of devices.slice(1)) await d.client.connect();
    await coordinator.waitForVersion(2, 30_000);
    // The coordinator announces the new model; recommend() then fetches it on each device.
    await Promise.all(
      devices.map(({ client }) =>
        client.modelVersion === 2 ? undefined : new Promise<void>((resolve) => client.on('model:updated', (u) => u.modelVersion === 2 && resolve())),
      ),
    );
    for (const { client, seen } of devices) {
      const recs = await client.recommend(10);
      assert.equal(recs.length, 10);
      assert.equal(new Set(recs.map((r) => r.item)).size, 10);
      assert.ok(recs.every((r) => !seen.has(r.item)));
    }
    // The recommender follows the model: it now works from version 2.
    for (const { trainer } of devices) assert.equal(trainer.modelVersion, 2);
    const participants = coordinator.history().flatMap((r) => r.participants);
    assert.deepEqual([...new Set(participants)].sort(), ['phone-0', 'phone-1', 'phone-2']);
  });

  it('refuses recommend() with a trainer that cannot recommend, and a bad k', async () => {
    const { store, trainer } = await logisticDevice(1, 5);
    const client = createFederatedClient({ url: 'http://127.0.0.1:9', trainer, store });
    await assert.rejects(client.recommend(3), (err: unknown) => err instanceof FederatedClientError && err.code === 'NOT_SUPPORTED');
    const store2 = new MemoryStore();
    const recommender = createFederatedClient({ url: 'http://127.0.0.1:9', store: store2, trainer: new LiveRecsysTrainer({ store: store2, user: 0 }) });
    await assert.rejects(recommender.recommend(0), (err: unknown) => err instanceof FederatedClientError && err.code === 'INVALID_PAYLOAD');
  });
});
