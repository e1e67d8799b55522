import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { dashboardExtension } from '@fedrec/dashboard';
import { ownDataExtension } from '@fedrec/examples/own-data/extension.js';
import { getModel } from '@fedrec/models/registry.js';
import { recsysModelSpec, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { ensureBundles, launchChromium, newDevicePage, waitFor, watchPageProblems } from './helpers.js';

interface OwnDataPage {
  events: unknown[];
  rounds: number;
  error: string;
  client?: unknown;
}

describe('own-data example page (a person loads their own file in Chromium and trains on it)', function () {
  this.timeout(240_000);
  let coordinator: Coordinator;
  let url: string;
  let browser: Browser | undefined;

  before(async () => {
    await ensureBundles();
    const modelSpec = recsysModelSpec(120);
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      modelSpec,
      initialWeights: getModel(modelSpec.name).initialWeights(modelSpec.options, 1),
      trainingConfig: recsysTrainingConfig(),
      roundIntervalMs: 1_000,
      roundTimeoutMs: 30_000,
      extensions: [dashboardExtension(), ownDataExtension()],
    });
    ({ url } = await coordinator.start());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await coordinator.stop();
  });

  it('refuses a bad file naming its line, then trains on a good one in the browser and recommends on the device', async () => {
    const page = await newDevicePage(browser!);
    const { failed, errors } = watchPageProblems(page);
    await page.goto(`${url}/own-data`);
    const state = () => page.evaluate(() => (globalThis as unknown as { fedrecOwnData?: OwnDataPage }).fedrecOwnData);
    await waitFor('the page script', state);

    await page.setInputFiles('#file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('itemId,kind\n3,click\n4,liked\n') });
    await waitFor('the file error', async () => ((await page.textContent('#file-error')) || undefined) ?? undefined);
    assert.match((await page.textContent('#file-error'))!, /bad\.csv line 3: kind "liked"/);
    assert.equal(await page.isDisabled('#join'), true, 'a bad file loads nothing');

    const lines = [
      'itemId,kind,value,timestamp',
      ...[5, 17, 23, 42, 61, 77, 90].map((item, i) => `${item},click,,${1_700_000_000_000 + i * 1000}`),
      '99,rating,5',
    ];
    await page.setInputFiles('#file', { name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    await waitFor('the file to load', async () => ((await state())?.events.length === 8 ? true : undefined));
    assert.match((await page.textContent('#file-info'))!, /mine\.csv: 8 events on 8 items/);

    const before = coordinator.modelVersion;
    await page.click('#join');
    await waitFor('a round with the page taking part', async () => ((await state())!.rounds >= 1 ? true : undefined), 90_000);
    await coordinator.waitForVersion(before + 1, 60_000);
    // Ranking runs on the device (WebGL through SwiftShader here): slow on a loaded machine, so wait generously.
    const recs = await waitFor(
      'recommendations on the page',
      async () => {
        const n = await page.locator('#recs li').count();
        return n === 10 ? n : undefined;
      },
      90_000,
    );
    assert.equal(recs, 10);
    // Recommendations leave out what the file says the person already has.
    const shown = await page.locator('#recs li').allTextContents();
    for (const seen of [5, 17, 23, 42, 61, 77, 90, 99]) assert.ok(!shown.some((t) => t.startsWith(`item ${seen} `)), `item ${seen} recommended again`);
    assert.deepEqual(errors, []);
    assert.deepEqual(failed, [], 'every request of the page succeeds (favicon included)');
  });
});
