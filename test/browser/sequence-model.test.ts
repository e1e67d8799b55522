import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createCoordinator, type Coordinator, type RoundRecord } from '@fedrec/coordinator';
import type * as BrowserSdk from '@fedrec/client-sdk/browser/index.js';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { getModel } from '@fedrec/models/registry.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { ensureBundles, launchChromium, newDevicePage, serveAssets } from './helpers.js';

const NUM_ITEMS = 200;
const ROUNDS = 2;

/** A device's time-ordered history and its held-out next item, as plain arrays for page.evaluate. */
function device(user: number) {
  const history = Array.from({ length: 12 }, (_, k) => (user * 31 + k * 7) % NUM_ITEMS);
  const testItem = (user * 31 + 12 * 7) % NUM_ITEMS;
  const negatives = Array.from({ length: NUM_ITEMS }, (_, i) => i)
    .filter((i) => i !== testItem && !history.includes(i))
    .slice(0, 99);
  return { user, history, testItem, negatives };
}

describe('the seq model trains federatedly in Chromium (built SDK bundle, tfjs engine on WebGL) beside Node devices', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let assets: Awaited<ReturnType<typeof serveAssets>> | undefined;
  const coordinators: Coordinator[] = [];
  const nodeClients: FederatedClient[] = [];

  before(async () => {
    await ensureBundles();
    assets = await serveAssets();
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(nodeClients.map((c) => c.close()));
    await browser?.close();
    for (const c of coordinators) await c.stop();
    await assets?.close();
  });

  // The defaults (tied, attention pooling: its masked softmax) and the long-term term without attention on
  // WebGL too: the exclusive cumsum and the gathers' custom gradients (models/seq/tfjs).
  for (const longTerm of [false, true]) {
    it(`a browser device trains the seq model${longTerm ? ' with the long-term term, without attention,' : ''} in every round and recommends from its recent sequence`, async () => {
      const options = seqModelOptions(NUM_ITEMS, longTerm ? { longTerm, historyLen: 8, attention: false } : {});
      const coordinator = createCoordinator({
        port: 0,
        host: '127.0.0.1',
        corsOrigin: assets!.origin,
        minClients: 3,
        clientsPerRound: 'all',
        minResults: 3,
        rounds: ROUNDS,
        roundTimeoutMs: 90_000,
        modelSpec: { name: 'seq', options },
        initialWeights: getModel('seq').initialWeights(options, 3),
        trainingConfig: { localEpochs: 1, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 4 } },
      });
      coordinators.push(coordinator);
      const committed: RoundRecord[] = [];
      coordinator.on('round:committed', (r) => committed.push(r));
      const finished = new Promise<void>((resolve) => coordinator.once('training:finished', () => resolve()));
      const { url } = await coordinator.start();

      for (const user of [1, 2]) {
        const d = device(user);
        const data = {
          user,
          numItems: NUM_ITEMS,
          trainItems: Int32Array.from(d.history).sort(),
          testItem: d.testItem,
          testNegatives: Int32Array.from(d.negatives),
        };
        const trainer = new RecsysTrainer({ data, sequence: Int32Array.from(d.history), engine: 'js' });
        const client = createFederatedClient({ url, clientId: `node-seq-${user}-${longTerm}`, trainer, backend: false });
        nodeClients.push(client);
        await client.connect();
      }

      const page = await newDevicePage(browser!);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(assets!.origin);
      const result = await page.evaluate(
        async ({ url, d, numItems, rounds, longTerm }) => {
          const sdk = (await import('/assets/fedrec-client.js' as string)) as typeof BrowserSdk;
          const data = {
            user: d.user,
            numItems,
            trainItems: Int32Array.from(d.history).sort(),
            testItem: d.testItem,
            testNegatives: Int32Array.from(d.negatives),
          };
          // tfjs forced: on SwiftShader the engine rule would take the plain-JS engine (no real GPU).
          const trainer = new sdk.RecsysTrainer({ data, sequence: Int32Array.from(d.history), engine: 'tfjs' });
          const client = await sdk.createBrowserClient({ url, trainer, clientId: 'chromium-seq', storeName: `seq-model-${String(longTerm)}` });
          const fits: Array<{ roundId: number; loss: number | undefined }> = [];
          const done = new Promise<void>((resolve) =>
            client.on('fit:done', (e) => {
              fits.push({ roundId: e.roundId, loss: e.metrics['loss'] });
              if (fits.length === rounds) resolve();
            }),
          );
          await client.connect();
          await done;
          const before = (await trainer.recommend(5)).map((r) => r.item);
          // One more event: the state is the recent sequence, so the ranking moves without any training.
          const next = new sdk.RecsysTrainer({ data, sequence: Int32Array.from([...d.history, d.testItem]), engine: 'tfjs' });
          const global = trainer['lastGlobal']!; // the model of the last round, as this device received it
          next.setGlobal(global.spec, global.weights);
          const after = (await next.recommend(5, [...d.history, d.testItem])).map((r) => r.item);
          const out = { fits, backend: client.backend, engine: trainer.engine, before, after };
          await client.close();
          return out;
        },
        { url, d: device(3), numItems: NUM_ITEMS, rounds: ROUNDS, longTerm },
      );
      await finished;
      assert.deepEqual(errors, []);
      assert.equal(result.backend, 'webgl', 'Chromium selects WebGL (SwiftShader here)');
      assert.equal(result.engine, 'tfjs');
      assert.equal(result.fits.length, ROUNDS);
      assert.ok(
        result.fits.every((f) => Number.isFinite(f.loss)),
        'finite training loss',
      );
      assert.equal(committed.length, ROUNDS);
      for (const r of committed) assert.ok(r.participants.includes('chromium-seq'), `round ${r.roundId} aggregated the browser's update`);
      assert.equal(result.before.length, 5);
      assert.notDeepEqual(result.before, result.after, 'a new event re-ranks at once');
    });
  }
});
