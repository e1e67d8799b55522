import assert from 'node:assert/strict';
import { createCoordinator, type Coordinator, type CoordinatorExtension } from '@fedrec/coordinator';
import { createFederatedClient, MemoryStore, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { SeededRandom } from '@fedrec/models/random.js';
import type { Compression } from '@fedrec/protocol';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';

const NUM_ITEMS = 120;

/** Counts model:get requests per client id as the coordinator receives them over Socket.IO. */
function modelGetCounter(): CoordinatorExtension & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    name: 'model-get-counter',
    counts,
    attach: ({ io }) => {
      io.on('connection', (socket) => {
        socket.onAny((event: string) => {
          if (event !== 'model:get') return;
          const id = String(socket.data.clientId ?? '?');
          counts.set(id, (counts.get(id) ?? 0) + 1);
        });
      });
    },
  };
}

/** Resolves once `n` rounds are on record (round:committed comes after the round's evaluation). */
function roundsCommitted(coordinator: Coordinator, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (coordinator.history().filter((r) => r.outcome === 'committed').length >= n) resolve();
    };
    coordinator.on('round:committed', check);
    check();
  });
}

interface Device {
  client: FederatedClient;
  store: MemoryStore;
  /** Model versions named by this device's fit and evaluate tasks. */
  versions: number[];
  failures: string[];
}

async function device(url: string, d: number, store = new MemoryStore()): Promise<Device> {
  const trainer = new LiveRecsysTrainer({ store, user: d, engine: 'js' });
  const client = createFederatedClient({ url, clientId: `dev-${d}`, store, backend: false, trainer });
  const rng = new SeededRandom(40 + d);
  if ((await store.count()) === 0) for (let i = 0; i < 10; i++) await client.record({ itemId: rng.int(NUM_ITEMS), kind: 'click' });
  const dev: Device = { client, store, versions: [], failures: [] };
  client.on('fit:start', (t) => dev.versions.push(t.modelVersion));
  client.on('evaluate:start', (t) => dev.versions.push(t.modelVersion));
  client.on('task:failed', (f) => dev.failures.push(`${f.kind} ${f.code} ${f.message}`));
  return dev;
}

async function run(compression: Compression | undefined): Promise<{ coordinator: Coordinator; url: string; counter: ReturnType<typeof modelGetCounter> }> {
  const options = recsysModelOptions(NUM_ITEMS);
  const counter = modelGetCounter();
  const coordinator = createCoordinator({
    port: 0,
    host: '127.0.0.1',
    minClients: 3,
    minResults: 3,
    rounds: 3,
    evaluateEvery: 1,
    roundTimeoutMs: 60_000,
    modelSpec: { name: 'neumf', options },
    initialWeights: neumfModel.initialWeights(options, 3),
    trainingConfig: recsysTrainingConfig(),
    extensions: [counter],
    ...(compression ? { compression } : {}),
  });
  const { url } = await coordinator.start();
  return { coordinator, url, counter };
}

describe('end to end: no model sent twice (tasks name the version, devices hold it)', function () {
  this.timeout(120_000);
  const clients: FederatedClient[] = [];
  const coordinators: Coordinator[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(coordinators.splice(0).map((c) => c.stop()));
  });

  for (const compression of [undefined, 'int8'] as const) {
    it(`evaluated rounds download each version once per device, fit and evaluation share it (${compression ?? 'none'})`, async () => {
      const { coordinator, url, counter } = await run(compression);
      coordinators.push(coordinator);
      const devices = await Promise.all([0, 1, 2].map((d) => device(url, d)));
      clients.push(...devices.map((d) => d.client));
      await Promise.all(devices.map((d) => d.client.connect()));
      await roundsCommitted(coordinator, 3);
      const history = coordinator.history();
      assert.equal(history.filter((r) => r.outcome === 'committed').length, 3);
      assert.ok(
        history.every((r) => r.failures.length === 0 && r.evaluation?.participants.length === 3),
        JSON.stringify(history.map((r) => r.failures)),
      );
      for (const d of devices) {
        const id = d.client.clientId!;
        assert.deepEqual(d.failures, []);
        // Fit v0, evaluate v1, fit v1, evaluate v2, fit v2, evaluate v3: six tasks over four versions.
        assert.deepEqual(d.versions, [0, 1, 1, 2, 2, 3]);
        assert.equal(counter.counts.get(id), 4, `${id} downloaded ${counter.counts.get(id)} models for tasks on versions ${d.versions.join(',')}`);
        // recommend() ranks on the version already held: no download.
        assert.equal((await d.client.recommend(5)).length, 5);
        assert.equal(counter.counts.get(id), 4);
      }
    });
  }

  it('a device that was offline gets the newest version once, and a restarted device finds it in its store', async () => {
    const { coordinator, url, counter } = await run(undefined);
    coordinators.push(coordinator);
    const devices = await Promise.all([0, 1, 2].map((d) => device(url, d)));
    clients.push(...devices.map((d) => d.client));
    await Promise.all(devices.map((d) => d.client.connect()));
    await roundsCommitted(coordinator, 3);

    // Offline through all three rounds: one download of version 3, however often it asks.
    const late = await device(url, 7);
    clients.push(late.client);
    await late.client.connect();
    assert.equal((await late.client.recommend(3)).length, 3);
    assert.equal((await late.client.fetchModel()).modelVersion, 3);
    await late.client.recommend(3);
    assert.equal(counter.counts.get('dev-7'), 1);

    // The same device restarted with its store: the copy it kept serves version 3, nothing is downloaded.
    await late.client.close();
    const restarted = await device(url, 7, late.store);
    clients.push(restarted.client);
    await restarted.client.connect();
    assert.equal((await restarted.client.fetchModel()).modelVersion, 3);
    assert.equal((await restarted.client.recommend(3)).length, 3);
    assert.equal(counter.counts.get('dev-7'), 1);
  });
});
