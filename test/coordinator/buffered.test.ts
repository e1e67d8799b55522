import assert from 'node:assert/strict';
import { createCoordinator } from '@fedrec/coordinator';
import { SHARED, connectFakeClient, constantUpdate, startCoordinator, stopAll, tempDir, testOptions, until } from './helpers.js';
import type { FakeClient, FitAnswer } from './helpers.js';

const closeAll = (clients: FakeClient[]) => clients.forEach((c) => c.close());
const policyOff = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' } as const;
/** Answers its first `n` tasks with `step`, then keeps quiet (so the test knows exactly how many updates exist). */
const answers = (n: number, step: number, numExamples = 1) => {
  let left = n;
  return (): FitAnswer => (left-- > 0 ? { kind: 'update', payload: constantUpdate(step, numExamples) } : { kind: 'silent' });
};

describe('coordinator: buffered mode (FedBuff)', () => {
  afterEach(stopAll);

  it('commits exactly one version per K accepted updates, applied as FedAvg over the buffer', async () => {
    const { coordinator, url } = await startCoordinator({
      mode: 'buffered',
      buffered: { bufferSize: 3 },
      updatePolicy: policyOff,
      roundTimeoutMs: 30_000,
    });
    const clients = await Promise.all([
      connectFakeClient(url, { clientId: 'a', fit: answers(1, 1, 1) }),
      connectFakeClient(url, { clientId: 'b', fit: answers(1, 2, 1) }),
      connectFakeClient(url, { clientId: 'c', fit: answers(1, 6, 2) }),
      connectFakeClient(url, { clientId: 'd', fit: answers(0, 0) }),
    ]);
    try {
      await coordinator.waitForVersion(1, 10_000);
      // Every client is handed a task on version 0; three answer, all fresh (staleness 0, weight 1).
      // (1·1 + 1·2 + 2·6) / 4 = 3.75
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(3.75));
      // The silent 'd' never makes a fourth update, so no second version can appear.
      await until(() => clients.every((c) => c.tasks.length >= 1), 5_000, 'tasks');
      assert.equal(coordinator.modelVersion, 1);
      const committed = coordinator.history().filter((r) => r.outcome === 'committed');
      assert.equal(committed.length, 1);
      assert.deepEqual([...committed[0]!.participants].sort(), ['a', 'b', 'c']);
      assert.equal(clients[0]!.tasks[0]!.modelVersion, 0, 'the task carries its base version');
      const status = coordinator.status().buffered!;
      assert.equal(status.commits, 1);
      assert.equal(status.accepted, 3);
      assert.equal(status.buffered, 0);
      assert.deepEqual(status.stalenessHistogram.slice(0, 2), [3, 0]);
      // Devices that answered get their next task at once: training never waits for a round.
      await until(() => clients.slice(0, 3).every((c) => c.tasks.length === 2), 5_000, 'second tasks');
      assert.equal(clients[3]!.tasks.length, 1, 'a device still training gets no second task');
    } finally {
      closeAll(clients);
    }
  });

  it('weights a stale update by the policy (polynomial 1/(1+s)) and applies it to the current model', async () => {
    const { coordinator, url } = await startCoordinator({
      mode: 'buffered',
      buffered: { bufferSize: 1, maxStaleness: 5, staleness: { policy: 'polynomial', exponent: 1 } },
      updatePolicy: policyOff,
      roundTimeoutMs: 30_000,
    });
    let slowTasks = 0;
    const slow = await connectFakeClient(url, {
      clientId: 'slow',
      fit: async () => {
        if (slowTasks++ > 0) return { kind: 'silent' };
        // Trained on version 0, answered once versions 1 and 2 are out: staleness 2, weight 1/3.
        await until(() => coordinator.modelVersion >= 2, 10_000, 'version 2');
        return { kind: 'update', payload: constantUpdate(6, 1) };
      },
    });
    const fast = await connectFakeClient(url, { clientId: 'fast', fit: answers(2, 1) });
    try {
      await coordinator.waitForVersion(3, 10_000);
      // 0 → 1 → 2 from the fast client, then 2 + 6/3 = 4 from the stale one.
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(4));
      assert.deepEqual(coordinator.status().buffered!.stalenessHistogram.slice(0, 3), [2, 0, 1]);
      await until(() => slow.results.length >= 1, 5_000, 'verdict');
      assert.equal(slow.results[0]!.accepted, true);
    } finally {
      closeAll([slow, fast]);
    }
  });

  it('refuses an update staler than maxStaleness with STALE_UPDATE, and nothing changes (and /metrics says so)', async () => {
    const { coordinator, url } = await startCoordinator({
      mode: 'buffered',
      buffered: { bufferSize: 1, maxStaleness: 1 },
      updatePolicy: policyOff,
      roundTimeoutMs: 30_000,
      operatorToken: 'operator-token-for-tests',
    });
    let slowTasks = 0;
    const slow = await connectFakeClient(url, {
      clientId: 'slow',
      fit: async () => {
        if (slowTasks++ > 0) return { kind: 'silent' };
        await until(() => coordinator.modelVersion >= 2, 10_000, 'version 2');
        return { kind: 'update', payload: constantUpdate(100, 1) };
      },
    });
    const fast = await connectFakeClient(url, { clientId: 'fast', fit: answers(2, 1) });
    try {
      await until(() => slow.results.length >= 1, 10_000, 'the verdict on the stale update');
      assert.equal(slow.results[0]!.accepted, false);
      assert.equal(slow.results[0]!.error?.code, 'STALE_UPDATE');
      assert.match(slow.results[0]!.error!.message, /2 versions behind/);
      assert.equal(coordinator.modelVersion, 2);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(2));
      const status = coordinator.status().buffered!;
      assert.equal(status.refusedStale, 1);
      assert.equal(status.accepted, 2);
      assert.equal(status.buffered, 0, 'the refused update is in no buffer');
      // Prometheus: two fresh acceptances in the staleness histogram, one refusal, an empty buffer of K = 1.
      const text = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer operator-token-for-tests' } })).text();
      assert.match(text, /^fedrec_buffered_staleness_bucket\{le="0"\} 2$/m);
      assert.match(text, /^fedrec_buffered_staleness_count 2$/m);
      assert.match(text, /^fedrec_buffered_refused_stale_total 1$/m);
      assert.match(text, /^fedrec_buffered_buffer_fill 0$/m);
      assert.match(text, /^fedrec_buffered_buffer_size 1$/m);
      const perSecond = Number(/^fedrec_buffered_updates_per_second (\S+)$/m.exec(text)?.[1]);
      assert.ok(perSecond > 0 && perSecond <= 0.2, `updates/s over the 10 s window: ${perSecond}`);
      assert.match(text, /^fedrec_model_version 2$/m);
    } finally {
      closeAll([slow, fast]);
    }
  });

  it('refuses secure aggregation in buffered mode at start, with a message', () => {
    assert.throws(
      () => createCoordinator(testOptions({ mode: 'buffered', secureAggregation: 'secagg+' })),
      (err: unknown) => err instanceof TypeError && /mode 'buffered' does not combine with secureAggregation 'secagg\+'/.test(err.message),
    );
  });

  it('drops a buffer in progress on restart (its devices are told) and resumes from the last committed version', async () => {
    const dir = await tempDir();
    try {
      const options = { mode: 'buffered' as const, buffered: { bufferSize: 2 }, updatePolicy: policyOff, checkpointDir: dir.dir, roundTimeoutMs: 30_000 };
      const first = await startCoordinator(options);
      let order = 0;
      // The third update arrives after version 1 is committed and waits in a buffer of one.
      const fit = (): FitAnswer => (order++ < 3 ? { kind: 'update', payload: constantUpdate(1, 1) } : { kind: 'silent' });
      const clients = await Promise.all(['a', 'b', 'c'].map((clientId) => connectFakeClient(first.url, { clientId, fit })));
      try {
        await first.coordinator.waitForVersion(1, 10_000);
        await until(() => first.coordinator.status().buffered!.buffered === 1, 10_000, 'one update in the open buffer');
        const weights = Array.from(first.coordinator.currentWeights().body);
        const waiting = first.coordinator.history().at(-1)!;
        await first.coordinator.stop();
        const refused = () => clients.flatMap((c) => c.results).filter((r) => !r.accepted);
        await until(() => refused().length > 0, 5_000, 'the drop notice');
        const dropped = refused();
        assert.equal(dropped.length, 1, 'the device whose update was in the open buffer is told');
        assert.equal(dropped[0]!.error?.code, 'ROUND_CLOSED');
        assert.match(dropped[0]!.error!.message, /not applied/);
        const told = clients.find((c) => c.results.includes(dropped[0]!))!;
        assert.ok(
          told.results.some((r) => r.accepted && r.taskId === dropped[0]!.taskId && r.roundId === dropped[0]!.roundId),
          'the notice names the task it withdraws',
        );

        const second = await startCoordinator(options);
        assert.equal(second.coordinator.modelVersion, 1);
        assert.deepEqual(Array.from(second.coordinator.currentWeights().body), weights);
        assert.equal(second.coordinator.status().buffered!.buffered, 0);
        assert.equal(second.coordinator.history().at(-1)!.roundId, waiting.roundId);
      } finally {
        closeAll(clients);
      }
    } finally {
      await stopAll();
      await dir.remove();
    }
  });
});
