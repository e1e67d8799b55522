import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RoundRecord } from '@fedrec/coordinator';
import type { DashboardRound } from '@fedrec/dashboard';
import { startBrowserDemo, type BrowserDemo } from '@fedrec/examples/browser-demo/server.js';
import { ensureBundles, launchChromium, newDevicePage, screenshotPath, waitFor } from './helpers.js';

interface DemoStatus {
  connected: boolean;
  backend: string | undefined;
  engine: string | undefined;
  clientId: string;
  modelVersion: number;
  participation: { roundId: number; verdict: string; bytesSent: number }[];
  recommendations: { item: number; score: number }[];
}

const demoStatus = (page: Page) => page.evaluate(() => (globalThis as unknown as { fedrecDemo?: { status(): DemoStatus } }).fedrecDemo?.status());

/** Every frame a page sends over its WebSockets, as text (binary frames as latin1). */
function recordSentFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'))));
  return frames;
}

describe('browser clients end to end (coordinator + 3 Node clients + 2 headless Chromium clients on WebGL)', function () {
  this.timeout(120_000);
  let demo: BrowserDemo | undefined;
  let browser: Browser | undefined;

  before(async () => {
    await ensureBundles();
    demo = await startBrowserDemo({ port: 0, simulatedClients: 3, minClients: 5, minResults: 3, roundIntervalMs: 200, roundTimeoutMs: 30_000 });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('aggregates the browser devices’ sealed deltas into the model, shows it live on the dashboard, and sends no raw behaviour', async () => {
    const d = demo!;
    const committed: RoundRecord[] = [];
    d.coordinator.on('round:committed', (r) => committed.push(r));

    const pages = [await newDevicePage(browser!), await newDevicePage(browser!)];
    const sent = pages.map(recordSentFrames);
    const errors: string[] = [];
    for (const p of pages) p.on('pageerror', (e) => errors.push(e.message));
    await Promise.all(pages.map((p) => p.goto(d.demoUrl)));
    const devices = await Promise.all(
      pages.map((p) => waitFor('the demo page to connect', async () => ((await demoStatus(p))?.connected ? demoStatus(p) : undefined), 40_000)),
    );
    for (const s of devices) {
      assert.equal(s!.backend, 'webgl', 'browser clients select WebGL (SwiftShader here)');
      assert.equal(s!.engine, 'js', "WebGL rendered in software is no GPU: the engine rule's 'auto' takes the plain-JS engine");
    }
    const browserIds = devices.map((s) => s!.clientId);
    assert.notEqual(browserIds[0], browserIds[1], 'two contexts are two devices');
    const versionBefore = d.coordinator.modelVersion;

    // A person likes a few titles on each device (different ones), through the page's buttons.
    for (const [k, page] of pages.entries()) {
      for (let i = 0; i < 3; i++) {
        await page
          .locator('#items li button.like')
          .nth(k * 3 + i)
          .click();
        await page.waitForTimeout(150);
      }
    }
    // The page re-renders after the event is in IndexedDB and the device has re-ranked.
    for (const p of pages)
      await waitFor('3 liked items marked on the page', async () => ((await p.locator('#items li.liked').count()) === 3 ? true : undefined), 20_000);

    const joint = await waitFor(
      'a committed round with both browser clients among its participants',
      () => committed.find((r) => browserIds.every((id) => r.participants.includes(id))),
      60_000,
    );
    assert.ok(joint.modelVersion > versionBefore, 'the model version advanced');
    assert.ok(joint.participants.filter((p) => p.startsWith('sim-user-')).length >= 1, 'Node clients were in the same round');
    assert.equal(d.coordinator.history().find((r) => r.roundId === joint.roundId)?.outcome, 'committed');

    // The pages saw their deltas accepted and got recommendations computed locally from a newer model.
    const after = await Promise.all(
      pages.map((p) =>
        waitFor(
          'the page to record an accepted round and re-rank',
          async () => {
            const s = await demoStatus(p);
            return s &&
              s.participation.some((x) => x.verdict === 'accepted' && x.bytesSent > 0) &&
              s.recommendations.length === 10 &&
              s.modelVersion > versionBefore
              ? s
              : undefined;
          },
          30_000,
        ),
      ),
    );
    for (const [k, s] of after.entries()) {
      const liked = (await pages[k]!.locator('#items li.liked').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset['item'])))) as number[];
      assert.equal(liked.length, 3);
      for (const r of s.recommendations) assert.ok(r.score > 0 && r.score < 1 && !liked.includes(r.item), 'scored, and never an item already liked');
      assert.equal(new Set(s.recommendations.map((r) => r.item)).size, 10);
    }

    // Dashboard at /: a snapshot, then a round pushed while we watch (no reload, no polling).
    const dash = await newDevicePage(browser!, { width: 1400, height: 1100 });
    await dash.goto(d.dashboardUrl);
    const dashState = () =>
      dash.evaluate(
        () => (globalThis as unknown as { fedrecDashboard?: { state: { rounds: DashboardRound[]; clients: { clientId: string }[] } } }).fedrecDashboard?.state,
      );
    const first = await waitFor('the dashboard snapshot', async () => ((await dashState())?.rounds.length ? dashState() : undefined), 20_000);
    const lastSeen = Math.max(...first!.rounds.map((r) => r.roundId));
    const pushed = await waitFor(
      'a round pushed to the open dashboard',
      async () => {
        const s = await dashState();
        return s?.rounds.find((r) => r.roundId > lastSeen && r.traffic !== null);
      },
      30_000,
    );
    assert.ok(pushed.traffic!.bytesUp > 0 && pushed.traffic!.bytesDown > 0);
    // No operator token here: the dashboard lists every connected device, by pseudonym only.
    const listed = (await dashState())!.clients.map((c) => c.clientId);
    const connectedIds = [...browserIds, ...d.simulated.map((c) => c.clientId!)];
    assert.ok(listed.length >= connectedIds.length, `${listed.length} listed, ${connectedIds.length} devices connected`);
    for (const name of listed) assert.match(name, /^p-[0-9a-f]{16}$/, 'a pseudonym');
    for (const id of connectedIds) assert.ok(!listed.includes(id), `${id} is not shown raw`);
    await dash.waitForTimeout(300); // let Chart.js paint the latest round
    assert.match((await dash.locator('#t-version').textContent()) ?? '', /^\d+$/);
    await dash.screenshot({ path: await screenshotPath('dashboard.png'), fullPage: true });
    await pages[0]!.screenshot({ path: await screenshotPath('demo.png'), fullPage: true });

    // What left the browsers: handshakes, acks and sealed binary envelopes; never the behaviour log.
    for (const frames of sent) {
      assert.ok(frames.length > 0);
      for (const f of frames) assert.doesNotMatch(f, /"kind":"(click|rating)"|"itemId"/);
    }
    assert.deepEqual(errors, []);
  });
});
