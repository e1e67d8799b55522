import assert from 'node:assert/strict';
import { FedAvg } from '@fedrec/coordinator';
import type { ConfigureArgs, RoundRecord } from '@fedrec/coordinator';
import { SHARED, connectFakeClient, constantUpdate, next, startCoordinator, stopAll, until } from './helpers.js';
import type { FakeClient } from './helpers.js';

const closeAll = (clients: FakeClient[]) => clients.forEach((c) => c.close());

describe('coordinator: round engine', () => {
  afterEach(stopAll);

  it('commits a FedAvg round from real socket clients and broadcasts model:updated', async () => {
    // The policy off: this checks FedAvg's maths; the default adaptive bound would clip the 5 to 3 × the median norm.
    const { coordinator, url } = await startCoordinator({
      minClients: 2,
      minResults: 2,
      rounds: 1,
      updatePolicy: { normBound: 'off', weightCap: 'off', rowNormBound: 'off' },
    });
    const started = next(coordinator, 'round:started');
    const a = await connectFakeClient(url, { clientId: 'a', fit: () => ({ kind: 'update', payload: constantUpdate(1, 1) }) });
    const b = await connectFakeClient(url, { clientId: 'b', fit: () => ({ kind: 'update', payload: constantUpdate(5, 3) }) });
    try {
      const s = await started;
      assert.deepEqual([...s.selected].sort(), ['a', 'b']);
      await coordinator.waitForVersion(1, 5_000);
      // (1·1 + 3·5) / 4 = 4 everywhere (row weights equal the example counts here)
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(4));
      const [record] = coordinator.history();
      assert.equal(record?.outcome, 'committed');
      assert.equal(record?.totalExamples, 4);
      assert.equal(record?.fitMetrics['loss'], (1 * 1 + 3 * 5) / 4);
      await until(() => a.updates.length === 1 && b.updates.length === 1, 2_000, 'model:updated');
      assert.deepEqual(a.updates[0], { modelVersion: 1, roundId: record!.roundId });
      assert.equal(a.tasks[0]?.modelVersion, 0);
      assert.equal(coordinator.status().phase, 'finished');
    } finally {
      closeAll([a, b]);
    }
  });

  it('records a timeout and a mid-round disconnect as failures and still commits with enough results', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 3, minResults: 1, rounds: 1, roundTimeoutMs: 300 });
    const committed = next(coordinator, 'round:committed');
    const ok = await connectFakeClient(url, { clientId: 'ok', fit: () => ({ kind: 'update', payload: constantUpdate(2, 5) }) });
    const slow = await connectFakeClient(url, { clientId: 'slow', fit: () => ({ kind: 'silent' }) });
    const quitter = await connectFakeClient(url, { clientId: 'quitter', fit: () => ({ kind: 'disconnect' }) });
    try {
      const record = await committed;
      assert.deepEqual(record.participants, ['ok']);
      const codes = Object.fromEntries(record.failures.map((f) => [f.clientId, f.code]));
      assert.deepEqual(codes, { slow: 'TIMEOUT', quitter: 'DISCONNECTED' });
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(2));
      await until(() => slow.results.length === 1, 2_000, 'ROUND_CLOSED notice');
      assert.equal(slow.results[0]?.error?.code, 'ROUND_CLOSED');
    } finally {
      closeAll([ok, slow, quitter]);
    }
  });

  it('abandons with the model unchanged when too few results arrive, then retries and commits', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 2, minResults: 2, roundTimeoutMs: 200, retryDelayMs: 10 });
    const abandoned = next(coordinator, 'round:abandoned');
    let attempts = 0;
    const flaky = await connectFakeClient(url, {
      clientId: 'flaky',
      fit: () => (++attempts === 1 ? { kind: 'silent' } : { kind: 'update', payload: constantUpdate(3, 1) }),
    });
    const steady = await connectFakeClient(url, { clientId: 'steady', fit: () => ({ kind: 'update', payload: constantUpdate(3, 1) }) });
    try {
      const record = await abandoned;
      assert.equal(record.outcome, 'abandoned');
      assert.match(record.abandonReason ?? '', /minResults/);
      assert.deepEqual(record.participants, ['steady']);
      assert.equal(record.failures[0]?.code, 'TIMEOUT');
      assert.equal(coordinator.modelVersion, 0);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(0));
      await coordinator.waitForVersion(1, 5_000);
      const [first, second] = coordinator.history();
      assert.equal(second?.outcome, 'committed');
      assert.ok(second!.roundId > first!.roundId, 'a retried round gets a fresh round id');
      assert.deepEqual(Array.from(coordinator.currentWeights().body.slice(0, 1)), [3]);
    } finally {
      closeAll([flaky, steady]);
    }
  });

  it('abandons when the strategy selects fewer clients than minResults', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 1, minResults: 2, clientsPerRound: 1, retryDelayMs: 10_000 });
    const abandoned = next(coordinator, 'round:abandoned');
    const only = await connectFakeClient(url, { clientId: 'only' });
    try {
      const record = await abandoned;
      assert.match(record.abandonReason ?? '', /selected/);
      assert.equal(only.tasks.length, 0, 'no task is sent for a round that cannot commit');
    } finally {
      only.close();
    }
  });

  it('keeps going in continuous mode and samples clientsPerRound clients each round', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 3, clientsPerRound: 2, rounds: 'continuous' });
    const clients = await Promise.all(['a', 'b', 'c'].map((clientId) => connectFakeClient(url, { clientId })));
    try {
      await coordinator.waitForVersion(5, 10_000);
      const committed = coordinator.history().filter((r) => r.outcome === 'committed');
      assert.ok(committed.length >= 5);
      for (const r of committed) assert.equal(r.selected.length, 2);
      assert.equal(coordinator.status().mode, 'continuous');
      assert.notEqual(coordinator.status().phase, 'finished');
    } finally {
      closeAll(clients);
    }
  });

  it('stops after a fixed number of rounds', async () => {
    const { coordinator, url } = await startCoordinator({ rounds: 3 });
    const finished = next(coordinator, 'training:finished');
    const c = await connectFakeClient(url, { clientId: 'c' });
    try {
      assert.deepEqual(await finished, { modelVersion: 3 });
      assert.equal(coordinator.history().length, 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.tasks.length, 3);
    } finally {
      c.close();
    }
  });

  it('runs an evaluation round every evaluateEvery commits and aggregates metrics by examples', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 2, rounds: 4, evaluateEvery: 2 });
    const evaluated: number[] = [];
    const mk = (clientId: string, n: number, hr: number) =>
      connectFakeClient(url, {
        clientId,
        evaluate: (task) => {
          evaluated.push(task.modelVersion);
          return { ok: true, value: { numExamples: n, metrics: { hr10: hr } } };
        },
      });
    const finished = next(coordinator, 'training:finished');
    const a = await mk('a', 1, 0.2);
    const b = await mk('b', 3, 0.6);
    try {
      await finished;
      const records = coordinator.history() as RoundRecord[];
      assert.deepEqual(
        records.map((r) => r.evaluation !== null),
        [false, true, false, true],
      );
      const evaluation = records[1]!.evaluation!;
      assert.equal(evaluation.modelVersion, 2);
      assert.equal(evaluation.numExamples, 4);
      assert.ok(Math.abs(evaluation.metrics['hr10']! - (0.2 + 3 * 0.6) / 4) < 1e-12);
      assert.deepEqual([...new Set(evaluated)].sort(), [2, 4]);
    } finally {
      closeAll([a, b]);
    }
  });

  it('always evaluates the final version of a fixed run, even off the evaluateEvery beat', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 1, rounds: 3, evaluateEvery: 2 });
    const finished = next(coordinator, 'training:finished');
    const a = await connectFakeClient(url, { clientId: 'a', evaluate: () => ({ ok: true, value: { numExamples: 1, metrics: { hr10: 1 } } }) });
    try {
      await finished;
      const records = coordinator.history() as RoundRecord[];
      assert.deepEqual(
        records.map((r) => r.evaluation?.modelVersion ?? null),
        [null, 2, 3],
      );
    } finally {
      closeAll([a]);
    }
  });

  it('survives a strategy that throws: the round is recorded and the loop keeps running', async () => {
    let calls = 0;
    class Flaky extends FedAvg {
      override configureFit(args: ConfigureArgs) {
        if (++calls === 1) throw new Error('strategy bug');
        return super.configureFit(args);
      }
    }
    const { coordinator, url } = await startCoordinator({ strategy: new Flaky(), retryDelayMs: 10 });
    const engineError = next(coordinator, 'engine:error');
    const c = await connectFakeClient(url, { clientId: 'c' });
    try {
      assert.match((await engineError).message, /strategy bug/);
      await coordinator.waitForVersion(1, 5_000);
    } finally {
      c.close();
    }
  });

  it('stops promptly in the middle of a round', async () => {
    const { coordinator, url } = await startCoordinator({ roundTimeoutMs: 60_000 });
    const started = next(coordinator, 'round:started');
    const c = await connectFakeClient(url, { clientId: 'c', fit: () => ({ kind: 'silent' }) });
    await started;
    const t0 = Date.now();
    await coordinator.stop();
    assert.ok(Date.now() - t0 < 2_000, 'stop() must not wait for the round deadline');
    assert.equal(coordinator.status().phase, 'stopped');
    assert.equal(coordinator.modelVersion, 0);
    c.close();
  });

  it('runs two coordinators side by side in one process', async () => {
    const one = await startCoordinator({ rounds: 1 });
    const two = await startCoordinator({ rounds: 2, serverLearningRate: 2 });
    assert.notEqual(one.url, two.url);
    const c1 = await connectFakeClient(one.url, { clientId: 'same-id' });
    const c2 = await connectFakeClient(two.url, { clientId: 'same-id' });
    try {
      await Promise.all([one.coordinator.waitForVersion(1), two.coordinator.waitForVersion(2)]);
      assert.equal(one.coordinator.currentWeights().body[0], 1);
      assert.equal(two.coordinator.currentWeights().body[0], 4);
      assert.notEqual(one.coordinator.status().fingerprint, two.coordinator.status().fingerprint);
    } finally {
      closeAll([c1, c2]);
    }
  });
});
