import assert from 'node:assert/strict';
import { createCoordinator, type Coordinator, type RoundRecord } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { defaultModelRegistry, getModel } from '@fedrec/models/registry.js';
import { seededUser } from '../models/engine-fixtures.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import type { UserData } from '@fedrec/recsys/split.js';

// Heartbeats far shorter than one local fit: a fit that held the event loop for more than
// PING_INTERVAL + PING_TIMEOUT (2 s: room for GC pauses and sealing a 3 MB delta on a loaded
// machine) would get the device dropped with "ping timeout". Socket.IO's defaults are 25 s + 20 s.
const PING_INTERVAL_MS = 500;
const PING_TIMEOUT_MS = 1500;

/** One heavy user: 1,500 liked items of a 4,000-item catalogue, NeuMF with 64 factors, 4 negatives each. */
const heavyUser = (numItems: number): UserData => seededUser({ seed: 4, user: 1, numItems, liked: 1501 });

describe('end to end: training never starves the connection', function () {
  this.timeout(300_000);
  let coordinator: Coordinator | undefined;
  let client: FederatedClient | undefined;

  afterEach(async () => {
    await client?.close();
    await coordinator?.stop();
    client = undefined;
    coordinator = undefined;
  });

  for (const engine of ['js', 'tfjs'] as const) {
    it(`a ${engine} fit many ping intervals long keeps its Socket.IO connection`, async () => {
      const numItems = 4000;
      // Load the engine's code first: under tsx a first import compiles synchronously, which is not training.
      await defaultModelRegistry.engine('neumf', engine).load();
      const options = recsysModelOptions(numItems, { factors: 64 });
      const modelSpec = { name: 'neumf', options };
      coordinator = createCoordinator({
        port: 0,
        host: '127.0.0.1',
        minClients: 1,
        rounds: 1,
        evaluateEvery: 1,
        roundTimeoutMs: 240_000,
        pingIntervalMs: PING_INTERVAL_MS,
        pingTimeoutMs: PING_TIMEOUT_MS,
        modelSpec,
        initialWeights: getModel('neumf').initialWeights(options, 1),
        // Batch 64 keeps the tfjs engine (wasm) to seconds a pass. Enough passes that the fit outlasts two
        // heartbeat windows even on an idle machine (an epoch took ~2.4 s with js, ~0.9 s with tfjs here).
        trainingConfig: {
          localEpochs: engine === 'js' ? 4 : 10,
          batchSize: engine === 'js' ? 4 : 64,
          learningRate: 0.05,
          optimizer: 'sgd',
          extra: { negatives: 4 },
        },
      });
      const drops: string[] = [];
      coordinator.on('client:disconnected', ({ reason }) => drops.push(`coordinator saw: ${reason}`));
      const finished = new Promise<RoundRecord>((resolve) => coordinator!.once('round:committed', resolve));
      const abandoned = new Promise<RoundRecord>((resolve) => coordinator!.once('round:abandoned', resolve));
      const { url } = await coordinator.start();

      client = createFederatedClient({
        url,
        clientId: 'heavy-device',
        trainer: new RecsysTrainer({ data: heavyUser(numItems), engine }),
        ...(engine === 'js' ? { backend: false as const } : { backend: 'wasm' }),
      });
      client.on('disconnected', ({ reason }) => drops.push(`client saw: ${reason}`));
      let fitMs = 0;
      client.on('fit:done', (e) => (fitMs = e.durationMs));
      await client.connect();

      const record = await Promise.race([finished, abandoned]);
      assert.equal(
        record.outcome,
        'committed',
        `round ${record.outcome}: ${record.abandonReason ?? ''} ${JSON.stringify(record.failures)} drops ${drops.join('; ')}`,
      );
      assert.deepEqual(record.participants, ['heavy-device']);
      assert.deepEqual(record.failures, []);
      // The test means something only if the fit outlasted several heartbeats.
      assert.ok(fitMs > 2 * (PING_INTERVAL_MS + PING_TIMEOUT_MS), `the fit took ${fitMs} ms: too short to prove anything`);
      assert.deepEqual(drops, [], 'the device was never disconnected');
      assert.equal(client.connected, true);
    });
  }
});
