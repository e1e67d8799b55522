import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { dashboardExtension } from '@fedrec/dashboard';
import { logisticModel } from '@fedrec/models/logistic.js';
import { ensureBundles, launchChromium, newDevicePage, waitFor, watchPageProblems } from './helpers.js';

describe('dashboard page in Chromium: what a first-time operator sees', function () {
  this.timeout(120_000);
  let coordinator: Coordinator;
  let url: string;
  let browser: Browser | undefined;

  before(async () => {
    await ensureBundles();
    const spec = { name: 'logistic', options: { features: 4 } };
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: 3,
      modelSpec: spec,
      initialWeights: logisticModel.initialWeights(spec.options, 1),
      extensions: [dashboardExtension()],
    });
    ({ url } = await coordinator.start());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await coordinator.stop();
  });

  it('loads without a failed request (favicon included) and says how many clients the first round waits for', async () => {
    const page = await newDevicePage(browser!);
    const { failed, errors } = watchPageProblems(page);
    await page.goto(`${url}/`);
    const waiting = await waitFor('the waiting tile', async () => {
      const text = await page.textContent('#t-waiting');
      return text && text !== '–' ? text : undefined;
    });
    assert.equal(waiting, '3 more clients (min-clients 3, 0 connected)');
    assert.equal(await page.textContent('#t-phase'), 'waiting-for-clients');
    assert.equal(await page.textContent('#t-rounds'), '0 / 0');
    assert.equal(await page.textContent('#t-privacy'), 'off');
    for (const id of ['c-bytes-up', 'c-bytes-down']) assert.equal(await page.locator(`#${id}`).count(), 1, `#${id} chart`);
    // Browsers ask for the icon on their own; give that request the time to be made and answered.
    await page.waitForLoadState('networkidle');
    assert.deepEqual(failed, []);
    assert.deepEqual(errors, []);
  });
});
