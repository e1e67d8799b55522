import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCoordinator } from '@fedrec/coordinator';
import { connectFakeClient, testOptions, until } from './helpers.js';

/** Pending timers in this process (Node's own count; a cleared or fired timer is not in it). */
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Waits (up to `ms`) for the timer count to fall to `target`. Counted after an awaited sleep, never inside a
 * timer callback: Node counts a firing timer until its callback returns (helpers' `until` polls that way).
 */
async function timersFallTo(target: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  while (timers() > target && Date.now() < end) await sleep(50);
  return timers();
}

/**
 * `coordinator.stop()` while requests are in flight must leave no timer of its own behind: an app that
 * embeds the coordinator (or `npm run simulate --time-limit-min`) would otherwise stay alive until the
 * round deadline. The deadline here is far longer than the test's wait, so a leftover deadline timer
 * cannot expire on its own and pass the test by accident. (mocha runs with --exit, which would hide it.)
 */
describe('coordinator.stop() during a round leaves no timers behind', function () {
  this.timeout(60_000);

  for (const mode of ['sync', 'buffered'] as const) {
    it(`${mode} mode: fit requests in flight, then stop`, async () => {
      // After a tick: mocha arms this test's own timeout timer only once the test function has begun.
      await sleep(1);
      const before = timers();
      const coordinator = createCoordinator(
        testOptions({ mode, minClients: 2, roundTimeoutMs: 600_000, ...(mode === 'buffered' ? { buffered: { bufferSize: 2 } } : {}) }),
      );
      const { url } = await coordinator.start();
      // Devices that take their task and never answer: each request waits on its deadline when stop() comes.
      const clients = await Promise.all(['a', 'b'].map((clientId) => connectFakeClient(url, { clientId, fit: () => ({ kind: 'silent' }) })));
      try {
        await until(() => clients.every((c) => c.tasks.length === 1), 20_000, 'both devices to hold a fit task');
      } finally {
        await coordinator.stop();
        clients.forEach((c) => c.close());
      }
      // Closing sockets and the server settles over a few ticks; a leaked deadline would stay for 10 minutes.
      const after = await timersFallTo(before, 10_000);
      assert.ok(after <= before, `${after - before} timer(s) outlived stop(): ${JSON.stringify(process.getActiveResourcesInfo())}`);
    });
  }
});
