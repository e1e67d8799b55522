import assert from 'node:assert/strict';
import type { Logger } from '@fedrec/coordinator/logger.js';
import { SHARED, connectFakeClient, constantUpdate, startCoordinator, stopAll, type FakeClient } from './helpers.js';

// The update pool applies the policy's bounds in its workers without answering each apply (one message each way
// per update, issue 12): what the bounds did comes back with the partial sums. Over real Socket.IO, a sync round
// through two workers must clip, count and sum exactly as the main thread does (updateWorkers 0).

/** Collects the fields of every info line, which is where 'round committed' reports its clipping counts. */
function infoFields(into: Array<Record<string, unknown>>): Logger {
  const quiet = () => {};
  const logger: Logger = {
    debug: quiet,
    warn: quiet,
    error: quiet,
    info: (fields: unknown) => void (typeof fields === 'object' && fields !== null && into.push(fields as Record<string, unknown>)),
    child: () => logger,
  } as unknown as Logger;
  return logger;
}

describe('coordinator: bounds applied in the update pool, over Socket.IO', function () {
  // Worker threads start under tsx (a few seconds on a loaded machine) before their first update.
  this.timeout(60_000);
  afterEach(stopAll);

  async function round(updateWorkers: number): Promise<{ body: number[]; committed: Record<string, unknown> }> {
    const lines: Array<Record<string, unknown>> = [];
    const { coordinator, url } = await startCoordinator({
      minClients: 3,
      rounds: 1,
      roundTimeoutMs: 30_000,
      updateWorkers,
      // One update is far over the fixed bound and one over the weight cap; the third passes untouched.
      updatePolicy: { normBound: { mode: 'fixed', value: 1 }, weightCap: { mode: 'fixed', value: 20 }, rowNormBound: 'off' },
      logger: infoFields(lines),
    });
    const answers = [constantUpdate(0.001, 10), constantUpdate(5, 10), constantUpdate(0.002, 50)];
    const clients: FakeClient[] = [];
    try {
      for (const [i, payload] of answers.entries()) clients.push(await connectFakeClient(url, { clientId: `c${i}`, fit: () => ({ kind: 'update', payload }) }));
      await coordinator.waitForVersion(1, 30_000);
      const committed = lines.find((l) => l['modelVersion'] === 1 && 'clipped' in l);
      assert.ok(committed, "the commit's log line");
      assert.equal(coordinator.history().at(-1)!.participants.length, 3);
      return { body: Array.from(coordinator.currentWeights().body), committed };
    } finally {
      for (const c of clients) c.close();
      await stopAll();
    }
  }

  it('clips and caps the same updates, counts them, and commits the same model as the main thread', async () => {
    const pooled = await round(2);
    const inThread = await round(0);
    assert.equal(pooled.committed['clipped'], 1, 'the big update was clipped, and the count came back with the sums');
    assert.equal(pooled.committed['weightCapped'], 1);
    assert.equal(inThread.committed['clipped'], 1);
    assert.equal(inThread.committed['weightCapped'], 1);
    assert.equal(pooled.body.length, SHARED);
    // Summed in float32 blocks in a different grouping: equal within float32 rounding of these small sums.
    pooled.body.forEach((w, i) =>
      assert.ok(Math.abs(w - inThread.body[i]!) <= 1e-6 * Math.max(1, Math.abs(inThread.body[i]!)), `weight ${i}: ${w} vs ${inThread.body[i]}`),
    );
    // Clipping happened: unclipped, the step-5 update would have moved the mean by about 5·10/70 ≈ 0.7.
    assert.ok(Math.max(...pooled.body.map(Math.abs)) < 0.1, 'the clipped update moved the model a little, not by 0.7');
  });
});
