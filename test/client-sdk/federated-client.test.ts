import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  PROTOCOL_VERSION,
  ProtocolError,
  decodeEvaluateMetrics,
  encodeWeights,
  evaluateBinding,
  fingerprint,
  generateKeyPair,
  open,
  sealedEnvelopeSchema,
  sharedSize,
  type Ack,
  type EvaluateReply,
  type ModelSnapshot,
  type WeightManifest,
  type Weights,
} from '@fedrec/protocol';
import {
  CLIENT_ID_KEY,
  FederatedClient,
  FederatedClientError,
  MemoryStore,
  type FederatedClientOptions,
  type FitOutcome,
  type TaskContext,
  type Trainer,
} from '@fedrec/client-sdk/node/index.js';
import { makeFitTask, openFitReply, sendFit, startFakeCoordinator, type FakeCoordinator } from './helpers/fake-coordinator.js';

const manifest: WeightManifest = {
  tensors: [
    { name: 'a', shape: [3], dtype: 'float32', shared: true },
    { name: 'secret', shape: [2], dtype: 'float32', shared: false },
    { name: 'b', shape: [2, 2], dtype: 'float32', shared: true },
  ],
};
const globalWeights: Weights = { manifest, body: Float32Array.from([0.1, 0.2, 0.3, 1, 2, 3, 4]) };

/** A trainer that returns a delta derived from the round, and remembers what it was given. */
class ScriptedTrainer implements Trainer {
  seen: TaskContext[] = [];
  failWith: Error | undefined;
  gate: Promise<void> | undefined;
  async fit(ctx: TaskContext): Promise<FitOutcome> {
    this.seen.push(ctx);
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    const delta = ctx.global.body.map((v, i) => (i + 1) * 0.01 * ctx.roundId - v * 0.001);
    return { delta, numExamples: 10 + ctx.roundId, metrics: { loss: 0.5 / ctx.roundId } };
  }
  async evaluate(ctx: TaskContext) {
    this.seen.push(ctx);
    return { numExamples: 7, metrics: { loss: 0.25, accuracy: 0.75 } };
  }
}

function until<T>(client: FederatedClient, event: 'welcome' | 'disconnected' | 'reconnecting' | 'model:updated'): Promise<T> {
  return new Promise((resolve) => client.once(event, (payload) => resolve(payload as T)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FederatedClient', function () {
  let server: FakeCoordinator | undefined;
  const clients: FederatedClient[] = [];

  function newClient(overrides: Partial<FederatedClientOptions> & { url: string }): FederatedClient {
    const client = new FederatedClient({
      trainer: new ScriptedTrainer(),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0.2 },
      connectTimeoutMs: 5_000,
      ...overrides,
    });
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    server = undefined;
  });

  it('completes the handshake: welcome checked, client id generated and persisted, backend chosen', async () => {
    server = await startFakeCoordinator({ modelVersion: 4 });
    const store = new MemoryStore();
    const client = newClient({ url: server.url, store, token: 't0k' });
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('welcome', () => events.push('welcome'));
    const welcome = await client.connect();
    assert.equal(welcome.fingerprint, server.fingerprint);
    assert.equal(welcome.modelVersion, 4);
    assert.equal(client.connected, true);
    assert.equal(client.fingerprint, server.fingerprint);
    assert.equal(client.modelVersion, 4);
    assert.equal(client.backend, 'wasm');
    assert.deepEqual(events, ['connected', 'welcome']);
    const stored = await store.get(CLIENT_ID_KEY);
    assert.equal(typeof stored, 'string');
    assert.equal(client.clientId, stored);
    assert.deepEqual(server.handshakes.at(-1), { clientId: stored, protocolVersion: PROTOCOL_VERSION, token: 't0k' });

    // A second client on the same store keeps the same id.
    await client.close();
    const again = newClient({ url: server.url, store, backend: false });
    await again.connect();
    assert.equal(again.clientId, stored);
  });

  it('rejects connect() with PROTOCOL_VERSION_MISMATCH when the coordinator refuses, and stops retrying', async () => {
    server = await startFakeCoordinator({ requireVersion: 99 });
    const client = newClient({ url: server.url, backend: false });
    await assert.rejects(client.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'PROTOCOL_VERSION_MISMATCH');
    assert.equal(client.status.state, 'failed');
    const attempts = server.handshakes.length;
    await sleep(400); // several backoff periods
    assert.equal(server.handshakes.length, attempts);
  });

  it('rejects a welcome that announces another protocol version', async () => {
    server = await startFakeCoordinator({ welcome: { protocolVersion: PROTOCOL_VERSION + 1 } });
    const client = newClient({ url: server.url, backend: false });
    await assert.rejects(client.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'PROTOCOL_VERSION_MISMATCH');
  });

  it('refuses a coordinator whose key differs from the pinned fingerprint', async () => {
    server = await startFakeCoordinator();
    const other = generateKeyPair();
    const pinnedWrong = newClient({ url: server.url, backend: false, pinnedFingerprint: fingerprint(other.publicKey) });
    await assert.rejects(pinnedWrong.connect(), (err: unknown) => {
      assert.ok(err instanceof FederatedClientError);
      assert.equal(err.code, 'FINGERPRINT_MISMATCH');
      assert.match(err.message, /pinned/);
      return true;
    });
    assert.equal(pinnedWrong.connected, false);

    const pinnedRight = newClient({ url: server.url, backend: false, pinnedFingerprint: server.fingerprint });
    await pinnedRight.connect();
    assert.equal(pinnedRight.connected, true);
  });

  it('refuses a welcome whose fingerprint does not match its key', async () => {
    server = await startFakeCoordinator({ welcome: { fingerprint: fingerprint(generateKeyPair().publicKey) } });
    const client = newClient({ url: server.url, backend: false });
    await assert.rejects(client.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'FINGERPRINT_MISMATCH');
  });

  it('answers a fit task with an envelope the coordinator can open, holding exactly what the trainer returned', async () => {
    server = await startFakeCoordinator();
    const trainer = new ScriptedTrainer();
    const client = newClient({ url: server.url, trainer, backend: false });
    const done: Array<{ bytesSent: number; numExamples: number }> = [];
    client.on('fit:done', (e) => done.push(e));
    const socketP = server.nextSocket();
    await client.connect();
    const socket = await socketP;

    const task = makeFitTask({ weights: globalWeights, roundId: 3, taskId: 'r3-x', modelVersion: 2 });
    const reply = await sendFit(socket, task);
    const payload = await openFitReply(reply, task, client.clientId!, server.keys.secretKey);

    const ctx = trainer.seen[0]!;
    assert.deepEqual([...ctx.global.body], [...globalWeights.body]);
    assert.equal(ctx.roundId, 3);
    const expectedDelta = globalWeights.body.map((v, i) => (i + 1) * 0.01 * 3 - v * 0.001);
    assert.deepEqual([...payload.delta], [...expectedDelta]);
    assert.equal(payload.numExamples, 13);
    assert.deepEqual(payload.metrics, { loss: 0.5 / 3 });
    assert.equal(payload.rowWeights, undefined);

    // Bound to this task: the same envelope does not open as another task.
    assert.ok(reply.ok);
    const envelope = sealedEnvelopeSchema.parse(reply.value.envelope);
    await assert.rejects(
      () => open(envelope, { roundId: 3, clientId: client.clientId!, taskId: 'other', modelVersion: 2 }, server!.keys.secretKey),
      (err: unknown) => err instanceof ProtocolError && err.code === 'ENVELOPE_REJECTED',
    );
    assert.equal(done.length, 1);
    assert.equal(done[0]!.bytesSent, envelope.ciphertext.length + envelope.nonce.length + envelope.senderPublicKey.length);
    assert.equal(client.lastRoundId, 3);
  });

  it('acks TRAINING_FAILED when the trainer throws, and keeps serving', async () => {
    server = await startFakeCoordinator();
    const trainer = new ScriptedTrainer();
    trainer.failWith = new Error('out of data');
    const client = newClient({ url: server.url, trainer, backend: false });
    const failures: string[] = [];
    client.on('task:failed', (f) => failures.push(f.code));
    const socketP = server.nextSocket();
    await client.connect();
    const socket = await socketP;
    const reply = await sendFit(socket, makeFitTask({ weights: globalWeights }));
    assert.equal(reply.ok, false);
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'TRAINING_FAILED');
    assert.match(reply.error.message, /out of data/);
    assert.deepEqual(failures, ['TRAINING_FAILED']);

    trainer.failWith = undefined;
    const second = await sendFit(socket, makeFitTask({ weights: globalWeights, roundId: 2 }));
    assert.equal(second.ok, true);
  });

  it('acks TRAINING_FAILED when the trainer returns a delta of the wrong size (e.g. with private tensors)', async () => {
    server = await startFakeCoordinator();
    const leaky: Trainer = {
      fit: async (ctx) => ({ delta: new Float32Array(ctx.global.body.length + 2), numExamples: 1, metrics: {} }),
      evaluate: async () => ({ numExamples: 0, metrics: {} }),
    };
    const client = newClient({ url: server.url, trainer: leaky, backend: false });
    const socketP = server.nextSocket();
    await client.connect();
    const reply = await sendFit(await socketP, makeFitTask({ weights: globalWeights }));
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'TRAINING_FAILED');
  });

  it('acks INVALID_PAYLOAD for malformed tasks and stays connected', async () => {
    server = await startFakeCoordinator();
    const trainer = new ScriptedTrainer();
    const client = newClient({ url: server.url, trainer, backend: false });
    const socketP = server.nextSocket();
    await client.connect();
    const socket = await socketP;

    const missingFields = await sendFit(socket, { taskId: 'x', roundId: 'one' });
    assert.ok(!missingFields.ok);
    assert.equal(missingFields.error.code, 'INVALID_PAYLOAD');

    const good = makeFitTask({ weights: globalWeights });
    const shortBody = { ...good, weights: { manifest, body: new Uint8Array(8) } };
    const badBody = await sendFit(socket, shortBody);
    assert.ok(!badBody.ok);
    assert.equal(badBody.error.code, 'INVALID_PAYLOAD');
    assert.equal(trainer.seen.length, 0);

    assert.equal(client.connected, true);
    const reply = await sendFit(socket, good);
    assert.equal(reply.ok, true);
  });

  it('answers BUSY to a second task while one is training', async () => {
    server = await startFakeCoordinator();
    const trainer = new ScriptedTrainer();
    let release!: () => void;
    trainer.gate = new Promise((r) => (release = r));
    const client = newClient({ url: server.url, trainer, backend: false });
    const socketP = server.nextSocket();
    await client.connect();
    const socket = await socketP;
    const first = sendFit(socket, makeFitTask({ weights: globalWeights, taskId: 'first' }));
    await new Promise<void>((r) => client.once('fit:start', () => r()));
    const second = await sendFit(socket, makeFitTask({ weights: globalWeights, taskId: 'second' }));
    assert.ok(!second.ok);
    assert.equal(second.error.code, 'BUSY');
    assert.equal(client.status.busy, true);
    release();
    assert.equal((await first).ok, true);
    assert.equal(client.status.busy, false);
  });

  it('answers evaluate tasks with its metrics sealed to the coordinator key, bound to kind evaluate', async () => {
    server = await startFakeCoordinator();
    const client = newClient({ url: server.url, backend: false });
    const done: unknown[] = [];
    client.on('evaluate:done', (e) => done.push(e));
    const socketP = server.nextSocket();
    await client.connect();
    const socket = await socketP;
    const task = makeFitTask({ weights: globalWeights, roundId: 5 });
    const reply = (await socket.timeout(5000).emitWithAck('round:evaluate', task)) as Ack<EvaluateReply>;
    assert.ok(reply.ok);
    assert.deepEqual(Object.keys(reply.value), ['envelope'], 'nothing besides the envelope: no metrics in clear');
    const envelope = sealedEnvelopeSchema.parse(reply.value.envelope);
    const binding = evaluateBinding(task, client.clientId!);
    assert.deepEqual(decodeEvaluateMetrics(await open(envelope, binding, server.keys.secretKey)), { numExamples: 7, metrics: { loss: 0.25, accuracy: 0.75 } });
    // Bound to its kind: the same envelope does not open as a fit result of the same task.
    await assert.rejects(() => open(envelope, { ...binding, kind: 'fit' }, server!.keys.secretKey), { code: 'ENVELOPE_REJECTED' });
    assert.equal(done.length, 1);
  });

  it('reconnects with backoff after the connection drops and keeps serving tasks', async () => {
    server = await startFakeCoordinator();
    const client = newClient({ url: server.url, backend: false });
    const firstP = server.nextSocket();
    await client.connect();
    const first = await firstP;

    // 1. The transport dies (network drop): socket.io's own reconnection.
    const dropped = until<{ reason: string }>(client, 'disconnected');
    const rewelcomed = until(client, 'welcome');
    const secondP = server.nextSocket();
    first.conn.close();
    assert.match((await dropped).reason, /transport/);
    assert.equal(client.connected, false);
    await rewelcomed;
    const second = await secondP;
    assert.equal(client.connected, true);
    const task = makeFitTask({ weights: globalWeights, roundId: 7 });
    await openFitReply(await sendFit(second, task), task, client.clientId!, server.keys.secretKey);

    // 2. The server hangs up on purpose: the client retries by itself.
    const kicked = until<{ reason: string }>(client, 'disconnected');
    const thirdP = server.nextSocket();
    second.disconnect(true);
    assert.equal((await kicked).reason, 'io server disconnect');
    const third = await thirdP;
    await until(client, 'welcome');
    const task2 = makeFitTask({ weights: globalWeights, roundId: 8 });
    await openFitReply(await sendFit(third, task2), task2, client.clientId!, server.keys.secretKey);
  });

  it('reconnects after the coordinator restarts on the same port', async () => {
    server = await startFakeCoordinator();
    const keys = server.keys;
    const port = server.port;
    const client = newClient({ url: server.url, backend: false });
    await client.connect();
    const reconnecting = until(client, 'reconnecting');
    await server.close();
    await reconnecting;
    server = await startFakeCoordinator({ port, keys });
    const socketP = server.nextSocket();
    await until(client, 'welcome');
    const task = makeFitTask({ weights: globalWeights, roundId: 9 });
    const payload = await openFitReply(await sendFit(await socketP, task), task, client.clientId!, keys.secretKey);
    assert.equal(payload.numExamples, 19);
  });

  it('stops with FINGERPRINT_MISMATCH when a pinned coordinator comes back with another key', async () => {
    server = await startFakeCoordinator();
    const port = server.port;
    const client = newClient({ url: server.url, backend: false, pinnedFingerprint: server.fingerprint });
    await client.connect();
    const errors: Error[] = [];
    const failed = new Promise<void>((resolve) => client.on('error', (err) => (errors.push(err), resolve())));
    await server.close();
    server = await startFakeCoordinator({ port }); // fresh keys: an impostor on the same address
    await failed;
    assert.ok(errors[0] instanceof FederatedClientError && errors[0].code === 'FINGERPRINT_MISMATCH');
    assert.equal(client.status.state, 'failed');
    const seen = server.handshakes.length;
    await sleep(300);
    assert.equal(server.handshakes.length, seen, 'no further attempts after refusing the key');
  });

  it('accepts a pino logger and logs through it', async () => {
    server = await startFakeCoordinator();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const client = newClient({ url: server.url, backend: false, logger });
    await client.connect();
    assert.ok(lines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'welcomed by coordinator'));
  });

  it('fetches the model through model:get and follows model:updated and round:result', async () => {
    server = await startFakeCoordinator();
    server.io.on('connection', (socket) => {
      socket.on('model:get', (_request, ack) => {
        const snapshot: ModelSnapshot = { modelVersion: 6, modelSpec: { name: 'test', options: { k: 1 } }, weights: encodeWeights(globalWeights) };
        ack({ ok: true, value: snapshot });
      });
    });
    const client = newClient({ url: server.url, backend: false });
    const socketP = server.nextSocket();
    await client.connect();
    const model = await client.fetchModel();
    assert.equal(model.modelVersion, 6);
    assert.deepEqual(model.modelSpec, { name: 'test', options: { k: 1 } });
    assert.deepEqual([...model.weights.body], [...globalWeights.body]);
    assert.equal(sharedSize(model.weights.manifest), 7);

    const socket = await socketP;
    const updated = until<{ modelVersion: number }>(client, 'model:updated');
    socket.emit('model:updated', { modelVersion: 7, roundId: 3 });
    assert.equal((await updated).modelVersion, 7);
    assert.equal(client.modelVersion, 7);

    const verdicts: unknown[] = [];
    const twoVerdicts = new Promise<void>((resolve) =>
      client.on('round:result', (r) => {
        if (verdicts.push(r) === 2) resolve();
      }),
    );
    const rejected = { roundId: 3, taskId: 't3', accepted: false, error: { code: 'MANIFEST_MISMATCH' as const, message: 'wrong layout' } };
    (socket as unknown as { emit(e: string, p: unknown): void }).emit('round:result', { roundId: 'bogus' });
    socket.emit('round:result', rejected);
    socket.emit('round:result', { roundId: 4, taskId: 't4', accepted: true });
    await twoVerdicts;
    assert.deepEqual(verdicts, [rejected, { roundId: 4, taskId: 't4', accepted: true }]);
  });

  it('records behaviour events into its store and rejects malformed ones', async () => {
    const store = new MemoryStore();
    const client = newClient({ url: 'http://127.0.0.1:9', store, backend: false });
    const before = Date.now();
    const recorded = await client.record({ itemId: 42, kind: 'click' });
    assert.ok(recorded.timestamp >= before);
    await client.record({ itemId: 'sku-1', kind: 'rating', value: 4, timestamp: 1000 });
    assert.deepEqual(
      (await store.list()).map((e) => e.itemId),
      [42, 'sku-1'],
    );
    await assert.rejects(
      client.record({ itemId: 1, kind: 'like' as 'view' }),
      (err: unknown) => err instanceof FederatedClientError && err.code === 'INVALID_PAYLOAD',
    );
    assert.equal(await store.count(), 2);
  });

  it('says CONNECTION_REFUSED at once when nothing listens, and CONNECT_TIMEOUT when told to wait', async () => {
    // Bind a port and close it so nothing listens there.
    const probe = await startFakeCoordinator();
    const url = probe.url;
    await probe.close();
    // The timeout is far beyond the test's own: only the refusal itself can end this connect().
    const client = newClient({ url, backend: false, connectTimeoutMs: 600_000 });
    await assert.rejects(
      client.connect(),
      (err: unknown) => err instanceof FederatedClientError && err.code === 'CONNECTION_REFUSED' && /ECONNREFUSED/.test(err.message),
    );
    assert.equal(client.status.state, 'failed');
    const patient = newClient({ url, backend: false, connectTimeoutMs: 300, waitForCoordinator: true });
    await assert.rejects(patient.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'CONNECT_TIMEOUT');
  });

  it('ignores listener exceptions', async () => {
    server = await startFakeCoordinator();
    const client = newClient({ url: server.url, backend: false });
    client.on('welcome', () => {
      throw new Error('bad listener');
    });
    await client.connect();
    assert.equal(client.connected, true);
    await client.close();
    assert.equal(client.status.state, 'closed');
  });
});
