import assert from 'node:assert/strict';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { assertBrowserSafe } from '../../scripts/build-browser.js';
import { next, stopAll } from '../coordinator/helpers.js';
import { assertOneSlotAtATime, startOneSlotSecAgg } from '../e2e/fixtures/one-slot-secagg.js';
import { launchChromium, newDevicePage, waitFor, watchPageProblems } from './helpers.js';

// SecAgg+ upload pacing with the SDK's browser build in Chromium (issue 12): each page is a device running the
// browser entry of the client SDK (client-sdk/browser/index.ts, bundled for the browser as the shipped bundle is),
// with a tfjs-free trainer. The coordinator's budget fits one masked input at a time, so every device must ask
// `upload:slot` (SecAggParticipant through the task runner's askUploadSlot) and wait for its grant; a masked input
// sent without one is refused (UPLOAD_SLOT_REQUIRED) and its device dropped, so a round with every device in it
// shows each asked.

const ENTRY = `
import { createFederatedClient } from './client-sdk/browser/index.ts';
import { DeterministicTrainer } from './test/e2e/fixtures/deterministic-trainer.ts';
globalThis.startDevice = async (url, clientId, device) => {
  const stages = [];
  const client = createFederatedClient({ url, clientId, trainer: new DeterministicTrainer(device), backend: false, reconnect: { enabled: false } });
  client.on('secagg:stage', (s) => stages.push(s.stage));
  globalThis.deviceStages = stages;
  await client.connect();
};
`;

/** The text frames a page sends over its WebSockets (Socket.IO packets; binary attachments left out). */
function sentTextFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => void (typeof f.payload === 'string' && frames.push(f.payload))));
  return frames;
}

describe('browser: SecAgg+ masked inputs paced by upload slots (SDK browser build in Chromium)', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close();
    await stopAll();
  });

  it('with a one-slot budget, every Chromium device asks for a slot, waits its turn, and the round completes with all of them', async () => {
    const n = 4;
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: ['es2022'],
      write: false,
      metafile: true,
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    assertBrowserSafe(bundle.metafile); // the same refusal of Node-only code as the shipped bundle's build
    const { coordinator, url, collector } = await startOneSlotSecAgg(n, 30_000);
    const committed = next(coordinator, 'round:committed', 150_000);
    browser = await launchChromium();
    const pages = await Promise.all(Array.from({ length: n }, () => newDevicePage(browser!)));
    const frames = pages.map(sentTextFrames);
    const problems = pages.map(watchPageProblems);
    for (const [i, page] of pages.entries()) {
      await page.goto(`${url}/api/status`); // any page of the coordinator's origin
      await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
      await page.evaluate(
        ([u, id, device]) => (globalThis as unknown as { startDevice: (u: string, id: string, d: number) => Promise<void> }).startDevice(u, id, device),
        [url, `chromium-${i}`, i] as [string, string, number],
      );
    }
    const record = await committed;
    assert.deepEqual([...record.participants].sort(), ['chromium-0', 'chromium-1', 'chromium-2', 'chromium-3']);
    assert.deepEqual(record.failures, []);
    assertOneSlotAtATime(collector);
    const peakBytes = collector.uploadSlots!.peakBytes;
    for (const [i, page] of pages.entries()) {
      // Each browser asked for exactly one slot, for its masked input's size, and answered the masked-input stage.
      const asks = frames[i]!.filter((f) => f.includes('"upload:slot"'));
      assert.equal(asks.length, 1, `chromium-${i} asked ${asks.length} times`);
      assert.match(asks[0]!, new RegExp(`"bytes":${peakBytes}[,}]`));
      const stages = await waitFor('the stages the page answered', () =>
        page.evaluate(() => (globalThis as unknown as { deviceStages?: string[] }).deviceStages),
      );
      assert.ok(stages.includes('masked-input'), `chromium-${i} stages: ${stages.join(', ')}`);
      assert.deepEqual(problems[i]!.errors, []);
    }
  });
});
