import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import type * as BrowserSdk from '@fedrec/client-sdk/browser/index.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { ensureBundles, launchChromium, newDevicePage, serveAssets } from './helpers.js';

const NUM_ITEMS = 400;

interface PageRec {
  item: number;
  score: number;
  reason?: { kind: string; item?: number; similarity?: number };
}

describe('explained recommendations in Chromium (built SDK bundle, real coordinator over Socket.IO)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let assets: Awaited<ReturnType<typeof serveAssets>> | undefined;
  let coordinator: Coordinator | undefined;
  let url = '';

  before(async () => {
    await ensureBundles();
    assets = await serveAssets();
    const options = recsysModelOptions(NUM_ITEMS);
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      corsOrigin: assets.origin,
      minClients: 50, // no rounds: this test is about the device between rounds
      modelSpec: { name: 'neumf', options },
      initialWeights: neumfModel.initialWeights(options, 4),
      trainingConfig: recsysTrainingConfig(),
    });
    ({ url } = await coordinator.start());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await coordinator?.stop();
    await assets?.close();
  });

  it('a new user gets popular picks at once; after liking string ids each pick says which liked item it is like', async () => {
    const page = await newDevicePage(browser!);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(assets!.origin);
    const popularity = Array.from({ length: NUM_ITEMS }, (_, i) => (i * 37) % 101); // a prior unrelated to the model's rows
    const result = await page.evaluate(
      async ({ url, popularity }) => {
        const sdk = (await import('/assets/fedrec-client.js' as string)) as typeof BrowserSdk;
        const store = await sdk.openIndexedDbStore({ name: 'explained-recs' });
        const prior = Float32Array.from(popularity);
        const trainer = new sdk.LiveRecsysTrainer({ store, user: 12, prior: () => prior });
        const client = await sdk.createBrowserClient({ url, store, trainer, clientId: 'chromium-explained' });
        await client.connect();
        const cold = await client.recommend(10);
        const liked = ['50', '56', '172'];
        const steps = [];
        for (const itemId of liked) {
          await client.record({ itemId, kind: 'click' });
          const t = performance.now();
          const recs = await client.recommend(10);
          steps.push({ recs, ms: performance.now() - t });
        }
        const backend = client.backend;
        await client.close();
        return { cold, steps, backend };
      },
      { url, popularity },
    );
    assert.deepEqual(errors, []);
    const cold = result.cold as PageRec[];
    assert.equal(cold.length, 10, 'a user with no events gets ten recommendations at once');
    assert.ok(cold.every((r) => r.reason?.kind === 'popular'));
    const byPopularity = popularity.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    assert.deepEqual(
      cold.map((r) => r.item),
      byPopularity.slice(0, 10).map(([, i]) => i),
      'with no events the popularity prior ranks',
    );
    const likedRows = [50, 56, 172];
    for (const [k, step] of result.steps.entries()) {
      const recs = step.recs as PageRec[];
      const likedSoFar = likedRows.slice(0, k + 1);
      assert.equal(recs.length, 10);
      assert.ok(!recs.some((r) => likedSoFar.includes(r.item)), 'liked items leave the list');
      for (const r of recs) {
        assert.equal(r.reason?.kind, 'similar-to-liked');
        assert.ok(likedSoFar.includes(r.reason!.item!), `the reason names a liked item (${r.reason!.item})`);
        assert.ok(r.reason!.similarity! >= -1 && r.reason!.similarity! <= 1);
      }
    }
    const last = result.steps.at(-1)!.recs as PageRec[];
    assert.notDeepEqual(
      last.map((r) => r.item),
      cold.map((r) => r.item),
      'three likes changed the list',
    );
  });
});
