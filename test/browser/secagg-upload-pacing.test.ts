import assert from 'node:assert/strict';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { ASSETS_PREFIX, serveBrowserAssets } from '@fedrec/dashboard';
import { MASK_WORKER_FILE } from '@fedrec/client-sdk/browser/web-worker-mask-expander.js';
import { assertBrowserSafe } from '../../scripts/build-browser.js';
import { next, stopAll } from '../coordinator/helpers.js';
import type { RecordedFit } from '../e2e/fixtures/deterministic-trainer.js';
import { assertSecureFedAvg } from '../e2e/fixtures/fedavg-check.js';
import { assertOneSlotAtATime, ONE_SLOT_SECAGG_CONFIG, startOneSlotSecAgg } from '../e2e/fixtures/one-slot-secagg.js';
import { ensureBundles, launchChromium, newDevicePage, waitFor, watchPageProblems } from './helpers.js';

// SecAgg+ upload pacing with the SDK's browser build in Chromium (issue 12): each page is a device running the
// browser entry of the client SDK (client-sdk/browser/index.ts, bundled for the browser as the shipped bundle is),
// with a tfjs-free trainer. The coordinator's budget fits one masked input at a time, so every device must ask
// `upload:slot` (SecAggParticipant through the task runner's askUploadSlot) and wait for its grant; a masked input
// sent without one is refused (UPLOAD_SLOT_REQUIRED) and its device dropped, so a round with every device in it
// shows each asked. The devices are made as an app makes them (createBrowserClient), with their SecAgg+ share keys
// and masks made in the shipped Web Worker (dist/browser/fedrec-mask-worker.js, served by the coordinator as /assets):
// the committed model must be the FedAvg of what the pages trained, which no wrong share, mask or correction survives.
// One more device is given a worker file that is not there: its round must end cleanly at stage 1 (INTERNAL, no
// shares sent) while the others complete without it. And one leaves right after sharing its keys, so every survivor's
// unmask request asks it to correct for that neighbour, which it does in the worker (the jobs each page posts to its
// worker are counted).

const ENTRY = `
import { createBrowserClient } from './client-sdk/browser/index.ts';
import { DeterministicTrainer } from './test/e2e/fixtures/deterministic-trainer.ts';
globalThis.startDevice = async (url, clientId, device, maskWorker, leaveAfter) => {
  // The kinds of job this page posts to its mask worker (mask-worker-jobs.ts requests).
  const jobs = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    if (message && message.kind) jobs.push(message.kind);
    return post.call(this, message, ...rest);
  };
  globalThis.workerJobs = jobs;
  const stages = [];
  const trainer = new DeterministicTrainer(device);
  const client = await createBrowserClient({ url, clientId, trainer, backend: false, reconnect: { enabled: false }, maskWorker });
  client.on('secagg:stage', (s) => {
    stages.push(s.stage);
    if (s.stage === leaveAfter) setTimeout(() => void client.close(), 0);
  });
  globalThis.deviceStages = stages;
  globalThis.deviceFits = () => trainer.sent.map((f) => ({ ...f, delta: Array.from(f.delta), rowWeights: f.rowWeights && Array.from(f.rowWeights) }));
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

  it('with a one-slot budget, every Chromium device asks for a slot, waits its turn, and the round completes with the exact FedAvg (share keys, masks and the survivors’ corrections for a device that left after stage 1 in the Web Worker); a device whose worker is missing fails cleanly at stage 1', async () => {
    const n = 6;
    const broken = n - 1;
    const leaving = n - 2;
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
    await ensureBundles(); // the shipped worker file
    const assets = { name: 'assets', attach: ({ routes }: { routes: Parameters<typeof serveBrowserAssets>[0] }) => serveBrowserAssets(routes) };
    const { coordinator, url, collector } = await startOneSlotSecAgg(n, 30_000, { extensions: [assets], minResults: n - 2 });
    const before = Float32Array.from(coordinator.currentWeights().body);
    const committed = next(coordinator, 'round:committed', 150_000);
    browser = await launchChromium();
    const pages = await Promise.all(Array.from({ length: n }, () => newDevicePage(browser!)));
    const frames = pages.map(sentTextFrames);
    const problems = pages.map(watchPageProblems);
    const workers = pages.map((page) => {
      const urls: string[] = [];
      page.on('worker', (w) => urls.push(w.url()));
      return urls;
    });
    const maskWorker = `${url}${ASSETS_PREFIX}/${MASK_WORKER_FILE}`;
    const missingWorker = `${url}${ASSETS_PREFIX}/no-such-worker.js`;
    for (const [i, page] of pages.entries()) {
      await page.goto(`${url}/api/status`); // any page of the coordinator's origin
      await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
      await page.evaluate(
        ([u, id, device, w, leave]) =>
          (globalThis as unknown as { startDevice: (u: string, id: string, d: number, w: string, l: string) => Promise<void> }).startDevice(
            u,
            id,
            device,
            w,
            leave,
          ),
        [url, `chromium-${i}`, i, i === broken ? missingWorker : maskWorker, i === leaving ? 'share-keys' : ''] as [string, string, number, string, string],
      );
    }
    const record = await committed;
    const after = Float32Array.from(coordinator.currentWeights().body);
    assert.deepEqual([...record.participants].sort(), ['chromium-0', 'chromium-1', 'chromium-2', 'chromium-3']);
    const failures = [...record.failures].sort((a, b) => a.clientId.localeCompare(b.clientId));
    assert.deepEqual(
      failures.map((f) => [f.clientId, f.code]),
      [
        [`chromium-${leaving}`, 'DISCONNECTED'],
        [`chromium-${broken}`, 'INTERNAL'],
      ],
    );
    const brokenFailure = failures[1]!;
    assert.match(brokenFailure.message, /mask worker failed: could not run .*no-such-worker\.js/);
    assertOneSlotAtATime(collector);
    const peakBytes = collector.uploadSlots!.peakBytes;
    const working = pages.slice(0, leaving);
    for (const [i, page] of working.entries()) {
      // Each browser asked for exactly one slot, for its masked input's size, and answered the masked-input stage.
      const asks = frames[i]!.filter((f) => f.includes('"upload:slot"'));
      assert.equal(asks.length, 1, `chromium-${i} asked ${asks.length} times`);
      assert.match(asks[0]!, new RegExp(`"bytes":${peakBytes}[,}]`));
      const stages = await waitFor('the stages the page answered', () =>
        page.evaluate(() => (globalThis as unknown as { deviceStages?: string[] }).deviceStages),
      );
      assert.ok(stages.includes('masked-input'), `chromium-${i} stages: ${stages.join(', ')}`);
      assert.deepEqual(problems[i]!.errors, []);
      // Its share keys, masks and correction for the device that left were made in the shipped worker, one worker per device.
      assert.deepEqual(workers[i], [maskWorker]);
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as { workerJobs: string[] }).workerJobs), ['share', 'mask', 'correction']);
    }
    // The device without its worker: it asked for no slot, sent no masked input, and its page threw nothing.
    assert.equal(frames[broken]!.filter((f) => f.includes('"upload:slot"')).length, 0);
    assert.deepEqual(workers[broken], [missingWorker]);
    // It got no further than stage 0: its share keys (stage 1) are made in the worker too, so that is where it failed.
    assert.deepEqual(await pages[broken]!.evaluate(() => (globalThis as unknown as { deviceStages: string[] }).deviceStages), ['advertise']);
    assert.match(brokenFailure.message, /share-keys/);
    // The device that left made its share keys in its worker and nothing more.
    assert.deepEqual(await pages[leaving]!.evaluate(() => (globalThis as unknown as { workerJobs: string[] }).workerJobs), ['share']);
    assert.deepEqual(problems[broken]!.errors, []);
    const fits = await Promise.all(
      working.map(async (page) => {
        const [fit] = await page.evaluate(() => (globalThis as unknown as { deviceFits: () => Array<Record<string, unknown>> }).deviceFits());
        const f = fit as { roundId: number; numExamples: number; delta: number[]; rowWeights?: number[] };
        return { ...f, delta: Float32Array.from(f.delta), rowWeights: f.rowWeights && Float32Array.from(f.rowWeights) } as RecordedFit;
      }),
    );
    assertSecureFedAvg(fits, before, after, ONE_SLOT_SECAGG_CONFIG);
  });
});
