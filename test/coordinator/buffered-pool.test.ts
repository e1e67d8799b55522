import assert from 'node:assert/strict';
import type { ParsedFitTask } from '@fedrec/protocol';
import { SHARED, connectFakeClient, constantUpdate, startCoordinator, stopAll, until, type FakeClient, type FitAnswer } from './helpers.js';

// Buffered mode through the update pool (issue 12): with update workers, a buffered update is opened,
// validated, weighted by its staleness, bounded and summed in a worker thread, as a sync round's is. Each
// scenario runs with the pool (updateWorkers 2) and on the main thread (updateWorkers 0, the path before the
// pool) over real Socket.IO, and both must give the same model, counts and refusal codes.

const policyOff = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' } as const;
const closeAll = (clients: FakeClient[]) => clients.forEach((c) => c.close());
/** Answers its first `n` tasks with `answer`, then keeps quiet (so the test knows exactly how many updates exist). */
const first = (n: number, answer: (task: ParsedFitTask) => FitAnswer | Promise<FitAnswer>) => {
  let left = n;
  return (task: ParsedFitTask): FitAnswer | Promise<FitAnswer> => (left-- > 0 ? answer(task) : { kind: 'silent' });
};

describe('coordinator: buffered mode through the update pool', function () {
  // Worker threads start under tsx (a few seconds on a loaded machine) before their first update.
  this.timeout(60_000);
  afterEach(stopAll);

  for (const workers of [2, 0]) {
    const path = workers > 0 ? `${workers} update workers` : 'the main thread (updateWorkers 0)';

    it(`accepts, counts once and weights by staleness as before, committed as the hand-computed weighted mean (${path})`, async () => {
      const { coordinator, url } = await startCoordinator({
        mode: 'buffered',
        buffered: { bufferSize: 2, maxStaleness: 5, staleness: { policy: 'polynomial', exponent: 1 } },
        updatePolicy: policyOff,
        roundTimeoutMs: 30_000,
        updateWorkers: workers,
      });
      // 'fast' answers three tasks (step 1, 1 example); 'slow' trains on version 0 and answers once version 1
      // is out: staleness 1, weight 1/(1+1), 3 examples, step 6.
      const slow = await connectFakeClient(url, {
        clientId: 'slow',
        fit: first(1, async () => {
          await until(() => coordinator.modelVersion >= 1, 30_000, 'version 1');
          return { kind: 'update', payload: constantUpdate(6, 3) };
        }),
      });
      const fast = await connectFakeClient(url, { clientId: 'fast', fit: first(3, () => ({ kind: 'update', payload: constantUpdate(1, 1) })) });
      try {
        await coordinator.waitForVersion(2, 30_000);
        // Version 1: fast's two fresh updates, (1 + 1) / 2 = 1. Version 2: fast's third (fresh, on version 1) and
        // slow's, 6 weighted by 1/2: 1 + (1·1 + 3·3) / (1 + 3) = 3.5.
        assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(3.5));
        // The commit counter follows the version's announcement.
        await until(() => coordinator.status().buffered!.commits === 2, 10_000, 'the second commit counted');
        const status = coordinator.status().buffered!;
        assert.equal(status.accepted, 4, 'each update counted once');
        assert.equal(status.buffered, 0);
        assert.deepEqual(status.stalenessHistogram.slice(0, 2), [3, 1]);
        const committed = coordinator.history().filter((r) => r.outcome === 'committed');
        assert.deepEqual(
          committed.map((r) => [...r.participants].sort()),
          [
            ['fast', 'fast'],
            ['fast', 'slow'],
          ],
        );
        await until(() => slow.results.length >= 1, 10_000, "slow's verdict");
        assert.equal(slow.results[0]!.accepted, true);
        if (workers > 0) {
          // Structural: every update's envelope went to a worker; the main thread opened none.
          assert.equal(status.updatePool?.envelopes, 4);
          assert.equal(status.updatePool?.workers, workers);
          assert.equal(status.updatePool?.crashes, 0);
        } else {
          assert.equal(status.updatePool, undefined);
        }
      } finally {
        closeAll([slow, fast]);
      }
    });

    it(`refuses hostile, slot-less and stale updates with the same codes, nothing counted or summed (${path})`, async () => {
      const { coordinator, url } = await startCoordinator({
        mode: 'buffered',
        buffered: { bufferSize: 1, maxStaleness: 0 },
        updatePolicy: policyOff,
        roundTimeoutMs: 30_000,
        updateWorkers: workers,
      });
      const good = constantUpdate(100, 10);
      const hostile: Record<string, FitAnswer> = {
        'other-task': { kind: 'update', payload: good, bindAs: { taskId: 'someone-elses-task' } },
        garbled: { kind: 'update', payload: good, tamper: (p) => p.map((_, i) => (i * 37) & 0xff) },
        'wrong-length': { kind: 'update', payload: { ...good, delta: new Float32Array(SHARED + 2).fill(1) } },
        nan: { kind: 'update', payload: { ...good, delta: new Float32Array(SHARED).fill(1).fill(Number.NaN, 3, 4) } },
        'zero-examples': { kind: 'update', payload: { ...good, numExamples: 0 } },
        'no-slot': { kind: 'update', payload: good, slot: false },
      };
      const clients = await Promise.all(Object.entries(hostile).map(([clientId, answer]) => connectFakeClient(url, { clientId, fit: first(1, () => answer) })));
      // Trained on version 0, answers once version 1 is out: one version behind a maxStaleness of 0.
      const stale = await connectFakeClient(url, {
        clientId: 'stale',
        fit: first(1, async () => {
          await until(() => coordinator.modelVersion >= 1, 30_000, 'version 1');
          return { kind: 'update', payload: good };
        }),
      });
      // The honest update goes last, once every hostile one has its verdict: version 1 is its step alone.
      const honest = await connectFakeClient(url, {
        clientId: 'honest',
        fit: first(1, async () => {
          await until(() => clients.every((c) => c.results.length === 1), 30_000, 'the hostile verdicts');
          return { kind: 'update', payload: constantUpdate(1, 1) };
        }),
      });
      try {
        await until(() => stale.results.length === 1, 30_000, "the stale update's verdict");
        const codes = Object.fromEntries([...clients, stale].map((c) => [c.clientId, c.results[0]!.error?.code ?? 'accepted']));
        assert.deepEqual(codes, {
          'other-task': 'ENVELOPE_REJECTED',
          garbled: 'INVALID_PAYLOAD',
          'wrong-length': 'MANIFEST_MISMATCH',
          nan: 'NON_FINITE_VALUES',
          'zero-examples': 'INVALID_PAYLOAD',
          'no-slot': 'UPLOAD_SLOT_REQUIRED',
          stale: 'STALE_UPDATE',
        });
        assert.equal(coordinator.modelVersion, 1);
        assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1), 'only the honest update is in the model');
        const status = coordinator.status().buffered!;
        assert.equal(status.accepted, 1);
        assert.equal(status.refusedStale, 1);
        assert.equal(status.buffered, 0);
        if (workers > 0) {
          // The five that reached opening (and the honest one) were opened in a worker; the slot-less and the
          // stale one were refused before anything was opened.
          assert.equal(status.updatePool?.envelopes, 6);
          await until(() => coordinator.status().buffered!.updatePool!.inFlight === 0, 10_000, 'the pool empty again');
        }
      } finally {
        closeAll([...clients, stale, honest]);
      }
    });
  }
});
