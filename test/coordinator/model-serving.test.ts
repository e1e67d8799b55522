import assert from 'node:assert/strict';
import { decodeWeights, fitTaskSchema, type Ack, type ModelSnapshot } from '@fedrec/protocol';
import { SHARED, connectFakeClient, constantUpdate, initialWeights, next, startCoordinator, stopAll, until } from './helpers.js';

describe('coordinator: model serving by version (model:get, tasks without weights)', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('tasks name the version and carry no weights; model:get serves exactly that version', async () => {
    const { coordinator, url } = await startCoordinator({ rounds: 1, compression: 'fp16' });
    const client = await connectFakeClient(url, {
      clientId: 'ann',
      fit: (t) => ({ kind: 'update', payload: constantUpdate(1, 5), compression: t.compression ?? 'none' }),
    });
    try {
      await next(coordinator, 'round:committed', 10_000);
      const task = client.tasks[0]!;
      assert.equal(task.modelVersion, 0);
      assert.equal(task.compression, 'fp16');
      // The fake client fetched the weights by version (helpers.ts); the raw task had none.
      assert.equal(decodeWeights(task.weights).body.length, SHARED);
      const reply = (await client.socket.timeout(5_000).emitWithAck('model:get', { modelVersion: 1 })) as Ack<ModelSnapshot>;
      assert.ok(reply.ok);
      if (!reply.ok) return;
      assert.equal(reply.value.weights.encoding, 'fp16');
      assert.equal(reply.value.weights.body.byteLength, 2 * SHARED);
      assert.deepEqual(Array.from(decodeWeights(reply.value.weights).body), Array.from(coordinator.currentWeights().body));
    } finally {
      client.close();
    }
  });

  it('refuses hostile version fields with INVALID_PAYLOAD and versions it does not serve with MODEL_UNAVAILABLE, and keeps serving', async () => {
    const { url } = await startCoordinator({ minClients: 5 });
    const client = await connectFakeClient(url, { clientId: 'mallory' });
    const loose = client.socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> } };
    const code = async (request: unknown): Promise<string> => {
      const reply = (await loose.timeout(5_000).emitWithAck('model:get', request)) as Ack<unknown>;
      return reply.ok ? 'ok' : reply.error.code;
    };
    try {
      for (const modelVersion of [-1, 1.5, '0', null, 2 ** 60, Number.NaN, { $gt: 0 }]) {
        assert.equal(await code({ modelVersion }), 'INVALID_PAYLOAD', `modelVersion ${String(modelVersion)}`);
      }
      assert.equal(await code({ modelVersion: 0, extra: 1 }), 'INVALID_PAYLOAD');
      assert.equal(await code({ modelVersion: 1 }), 'MODEL_UNAVAILABLE');
      assert.equal(await code({ modelVersion: 0 }), 'ok');
      assert.equal(await code({}), 'ok');
    } finally {
      client.close();
    }
  });

  it('tasks with hostile version fields are refused by the schema devices validate with', () => {
    const task = {
      taskId: 't',
      roundId: 1,
      modelVersion: 0,
      deadline: 1,
      config: { localEpochs: 1, batchSize: 1, learningRate: 0.1, optimizer: 'sgd', extra: {} },
      modelSpec: { name: 'm', options: {} },
    };
    assert.ok(fitTaskSchema.safeParse(task).success);
    for (const bad of [
      { modelVersion: -1 },
      { modelVersion: 2 ** 53 },
      { modelVersion: '1' },
      { catalogueVersion: -2 },
      { catalogueVersion: 0.5 },
      { compression: 'zip' },
    ]) {
      assert.equal(fitTaskSchema.safeParse({ ...task, ...bad }).success, false, JSON.stringify(bad));
    }
  });

  it('refuses an update in another encoding than the run compression with WRONG_ENCODING, and nothing changes', async () => {
    const { coordinator, url } = await startCoordinator({ rounds: 1, compression: 'int8', minClients: 2, minResults: 1 });
    // The fake clients seal float32 updates (helpers.ts) whatever the task says.
    const plain = await connectFakeClient(url, { clientId: 'float32-device' });
    const also = await connectFakeClient(url, { clientId: 'float32-device-2', fit: () => ({ kind: 'update', payload: constantUpdate(1, 5) }) });
    try {
      const record = await next(coordinator, 'round:abandoned', 10_000);
      assert.deepEqual(
        record.failures.map((f) => f.code),
        ['WRONG_ENCODING', 'WRONG_ENCODING'],
      );
      await until(() => plain.results.some((r) => !r.accepted && r.error?.code === 'WRONG_ENCODING'), 10_000, 'the refusal reaches the device');
      assert.deepEqual(Array.from(coordinator.currentWeights().body), Array.from(initialWeights().body), 'nothing changed');
    } finally {
      plain.close();
      also.close();
    }
  });
});
