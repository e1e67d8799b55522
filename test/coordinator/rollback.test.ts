import assert from 'node:assert/strict';
import type { ParsedFitTask } from '@fedrec/protocol';
import { decodeWeights } from '@fedrec/protocol';
import { SHARED, connectFakeClient, constantUpdate, next, startCoordinator, stopAll, until } from './helpers.js';
import type { FakeClient, FitAnswer } from './helpers.js';

const OFF = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' } as const;
const closeAll = (clients: FakeClient[]) => clients.forEach((c) => c.close());
const maxAbs = (task: ParsedFitTask) => decodeWeights(task.weights).body.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/**
 * An honest device as measured (bench/poisoning.ts, the plain-JS NCF engine at the default lr 0.5):
 * once the served weights are blown up ~10-100x, local SGD overflows, the delta is NaN and the SDK
 * answers TRAINING_FAILED. Here: any |weight| above 20 makes it fail, as the SDK's refusal does.
 */
const honest = (task: ParsedFitTask): FitAnswer =>
  maxAbs(task) > 20
    ? { kind: 'ack', ack: { ok: false, error: { code: 'TRAINING_FAILED', message: 'delta contains non-finite values' } } }
    : { kind: 'update', payload: constantUpdate(0.1, 10) };
const attacker = (): FitAnswer => ({ kind: 'update', payload: constantUpdate(100, 10) });

async function fleet(url: string, attackerFit: (task: ParsedFitTask) => FitAnswer = attacker): Promise<FakeClient[]> {
  const out: FakeClient[] = [];
  for (let i = 0; i < 4; i++) out.push(await connectFakeClient(url, { clientId: `h${i}`, fit: honest }));
  out.push(await connectFakeClient(url, { clientId: 'evil', fit: attackerFit }));
  return out;
}

describe('coordinator: no permanent stall after poisoning', () => {
  afterEach(stopAll);

  it('without the norm bound, the poisoned model stalls training; after 3 such rounds it is rolled back and training resumes', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5, minResults: 3, updatePolicy: OFF, retryDelayMs: 10 });
    const rolledBack = next(coordinator, 'model:rolledBack', 20_000);
    const clients = await fleet(url);
    try {
      const event = await rolledBack;
      // v1 = (4·0.1 + 100)/5 ≈ 20.1 everywhere: honest clients fail on it, rounds are abandoned, then v2 serves v0's weights.
      assert.equal(event.weightsOf, 0);
      assert.equal(event.modelVersion, event.from + 1, 'a rollback takes a new version number');
      assert.match(event.reason, /failed to train/);
      assert.ok(coordinator.history().filter((r) => r.outcome === 'abandoned').length >= 3);
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(0));
      // Honest clients train again on the restored model: the next round commits with them.
      const resumed = await next(coordinator, 'round:committed', 10_000);
      assert.ok(resumed.participants.includes('h0'));
    } finally {
      closeAll(clients);
    }
  });

  it('with the default norm bound the same attacker never stalls training', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5, minResults: 3, rounds: 4, retryDelayMs: 10 });
    const clients = await fleet(url);
    try {
      await coordinator.waitForVersion(4, 20_000);
      assert.equal(coordinator.status().roundsAbandoned, 0);
      assert.ok(coordinator.history().every((r) => r.participants.length === 5 && r.failures.length === 0));
      // The attacker is clipped to 3 × the median norm: (4·0.1 + 0.3)/5 = 0.14 a round, where unbounded it would move by 20.
      for (const w of coordinator.currentWeights().body) assert.ok(w > 0 && w < 4 * 0.2, `weight ${w}`);
    } finally {
      closeAll(clients);
    }
  });

  it('a committed model whose evaluation loss explodes is rolled back to the last model whose evaluation passed', async () => {
    // Honest clients evaluate a loss that grows with the weights; the attacker strikes once, in round 3.
    const { coordinator, url } = await startCoordinator({ minClients: 5, minResults: 3, updatePolicy: OFF, evaluateEvery: 1, retryDelayMs: 10 });
    const rolledBack = next(coordinator, 'model:rolledBack', 20_000);
    const clients: FakeClient[] = [];
    const evaluate = (task: ParsedFitTask) => ({ ok: true as const, value: { numExamples: 1, metrics: { loss: 0.5 + maxAbs(task) } } });
    for (let i = 0; i < 4; i++)
      clients.push(await connectFakeClient(url, { clientId: `h${i}`, fit: () => ({ kind: 'update', payload: constantUpdate(0.1, 10) }), evaluate }));
    clients.push(
      await connectFakeClient(url, {
        clientId: 'evil',
        fit: (task) => ({ kind: 'update', payload: constantUpdate(task.modelVersion === 2 ? 100 : 0.1, 10) }),
        evaluate,
      }),
    );
    try {
      const event = await rolledBack;
      assert.equal(event.from, 3);
      assert.equal(event.weightsOf, 2);
      assert.equal(event.modelVersion, 4);
      assert.match(event.reason, /evaluation loss/);
      const v3 = coordinator.history().find((r) => r.modelVersion === 3);
      assert.ok(v3?.evaluation && v3.evaluation.metrics['loss']! > 10);
      await until(() => coordinator.modelVersion >= 5, 10_000, 'training after the rollback');
      for (const w of coordinator.currentWeights().body) assert.ok(Math.abs(w) < 1, `weight ${w} after the rollback`);
    } finally {
      closeAll(clients);
    }
  });

  it('the operator rolls back over REST with the operator token; without it the request is refused and nothing changes', async () => {
    const token = 'operator-secret-0123456789';
    const { coordinator, url } = await startCoordinator({ minClients: 1, rounds: 3, operatorToken: token });
    const c = await connectFakeClient(url, { clientId: 'a', fit: (task) => ({ kind: 'update', payload: constantUpdate(task.modelVersion + 1, 4) }) });
    try {
      await coordinator.waitForVersion(3);
      await until(() => coordinator.status().phase === 'finished', 5_000, 'finished');
      const before = await fetch(`${url}/api/model`);
      const beforeTag = before.headers.get('etag');
      const post = (headers: Record<string, string>, body: unknown) =>
        fetch(`${url}/api/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      assert.equal((await post({}, { toVersion: 1 })).status, 401);
      assert.equal((await post({ authorization: 'Bearer wrong' }, { toVersion: 1 })).status, 401);
      assert.equal(coordinator.modelVersion, 3, 'a refused rollback changes nothing');
      assert.equal((await post({ authorization: `Bearer ${token}` }, { toVersion: -1 })).status, 400);
      assert.equal((await post({ authorization: `Bearer ${token}` }, { toVersion: 99 })).status, 409);
      const ok = await post({ authorization: `Bearer ${token}` }, { toVersion: 1 });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { modelVersion: 4, from: 3 });
      // v1 = 0 + 1 everywhere; the rolled-back model is served as version 4 with a new ETag.
      assert.deepEqual(Array.from(coordinator.currentWeights().body), new Array(SHARED).fill(1));
      const after = await fetch(`${url}/api/model`, { headers: { 'if-none-match': beforeTag! } });
      assert.equal(after.status, 200);
      assert.notEqual(after.headers.get('etag'), beforeTag);
      await until(() => c.updates.some((u) => u.modelVersion === 4), 5_000, 'model:updated for the rollback');
    } finally {
      c.close();
    }
  });
});
