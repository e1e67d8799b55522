import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { createCoordinator } from '@fedrec/coordinator';
import type { Coordinator, CoordinatorEvents, CoordinatorOptions } from '@fedrec/coordinator';
import {
  PROTOCOL_VERSION,
  challengeSchema,
  decodeWeights,
  wireWeightsSchema,
  encodeEvaluateMetrics,
  encodeUpdatePayload,
  evaluateBinding,
  fitTaskSchema,
  generateSignKeyPair,
  seal,
  sharedSize,
  signHandshakeProof,
  toHex,
  welcomeSchema,
  type Compression,
} from '@fedrec/protocol';
import type {
  Ack,
  ClientToServerEvents,
  ErrorInfo,
  EvaluateMetrics,
  EvaluateReply,
  FitReply,
  ModelUpdated,
  ParsedFitTask,
  ParsedWelcome,
  RoundResult,
  ServerToClientEvents,
  SignKeyPair,
  UpdatePayload,
  WeightManifest,
  Weights,
} from '@fedrec/protocol';

/** A small model: plain tensors, one rowwise table and a private tensor the coordinator never sees. */
export const manifest: WeightManifest = {
  tensors: [
    { name: 'dense/kernel', shape: [2, 2], dtype: 'float32', shared: true },
    { name: 'item_emb', shape: [3, 2], dtype: 'float32', shared: true, rowwise: true },
    { name: 'user_emb', shape: [1, 2], dtype: 'float32', shared: false },
    { name: 'dense/bias', shape: [2], dtype: 'float32', shared: true },
  ],
};
export const SHARED = sharedSize(manifest); // 12
export const ROWS = 3;

export function initialWeights(fill = 0): Weights {
  return { manifest, body: new Float32Array(SHARED).fill(fill) };
}

export const modelSpec = { name: 'test-model', options: { dim: 2 } };

/** Coordinator options for fast tests; override what a test is about. */
export function testOptions(overrides: Partial<CoordinatorOptions> = {}): CoordinatorOptions {
  return {
    port: 0,
    host: '127.0.0.1',
    minClients: 1,
    roundTimeoutMs: 2_000,
    // On the event loop: these suites time rounds in seconds, and a worker's first start under tsx on a
    // loaded machine can take longer. The pool has its own suites (coordinator/update-pool, the fit-collector contract).
    updateWorkers: 0,
    retryDelayMs: 20,
    rounds: 'continuous',
    modelSpec,
    initialWeights: initialWeights(),
    ...overrides,
  };
}

const running: Array<{ stop(): Promise<void> }> = [];

/** Starts a coordinator that is stopped after the test (see afterEach in each suite). */
export async function startCoordinator(overrides: Partial<CoordinatorOptions> = {}): Promise<{ coordinator: Coordinator; url: string }> {
  const coordinator = createCoordinator(testOptions(overrides));
  running.push(coordinator);
  const { url } = await coordinator.start();
  return { coordinator, url };
}

export async function stopAll(): Promise<void> {
  while (running.length) await running.pop()!.stop();
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fedrec-coord-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type ClientIo = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What a fake client answers to a fit task: an update to seal, a raw ack, or silence. */
export type FitAnswer =
  | {
      kind: 'update';
      payload: UpdatePayload;
      tamper?: (p: Uint8Array) => Uint8Array;
      /** Encode the delta like a device obeying the task's compression (against the test manifest); default float32. */
      compression?: Compression;
      /** false: encode against the test manifest without the size-bucket padding (what an old device sent). */
      pad?: false;
      bindAs?: Partial<{ roundId: number; taskId: string; modelVersion: number; clientId: string }>;
      /** Upload pacing: false sends without asking upload:slot, a number asks for that many bytes (hostile devices); default: ask when the task says so, for the sealed size. */
      slot?: false | number;
    }
  | { kind: 'ack'; ack: unknown; /** Ask upload:slot (for this many bytes) before sending the raw ack, as an honest device would. */ slotBytes?: number }
  | { kind: 'silent' }
  | { kind: 'disconnect' };

export interface FakeClient {
  clientId: string;
  socket: ClientIo;
  welcome: ParsedWelcome;
  tasks: ParsedFitTask[];
  results: RoundResult[];
  updates: ModelUpdated[];
  close(): void;
}

export interface FakeClientOptions {
  clientId: string;
  token?: string;
  /** The device key (default: this client id's own, kept for the whole test run like a device's store keeps it). */
  identity?: SignKeyPair;
  /** Extra handshake fields (an enrolment token, ...). */
  auth?: Record<string, unknown>;
  fit?: (task: ParsedFitTask, client: FakeClient) => FitAnswer | Promise<FitAnswer>;
  /** The device's result, sealed by the fake as an SDK device seals it; `{ raw }` acks exactly that (an unsealed or tampered reply). */
  evaluate?: (task: ParsedFitTask) => Ack<EvaluateMetrics> | { raw: unknown } | 'silent';
}

/** A constant update: every shared value moves by `step`, every row counts `rowWeight`. */
export function constantUpdate(step: number, numExamples: number, rowWeight = numExamples): UpdatePayload {
  return {
    numExamples,
    metrics: { loss: step },
    delta: new Float32Array(SHARED).fill(step),
    rowWeights: new Float32Array(ROWS).fill(rowWeight),
  };
}

/** A client built from socket.io-client and protocol functions only (the SDK is not needed). */
export function connectFakeClient(url: string, options: FakeClientOptions): Promise<FakeClient> {
  const identity = options.identity ?? deviceKeyOf(options.clientId);
  const socket = connectProving(url, options.clientId, identity, { ...(options.token ? { token: options.token } : {}), ...options.auth });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
    socket.once('proof-refused' as never, (error: ErrorInfo) => {
      socket.close();
      reject(Object.assign(new Error(error.message), { data: error }));
    });
    socket.once('session:welcome', (raw) => {
      const client: FakeClient = {
        clientId: options.clientId,
        socket,
        welcome: welcomeSchema.parse(raw),
        tasks: [],
        results: [],
        updates: [],
        close: () => socket.close(),
      };
      socket.on('round:result', (r) => client.results.push(r));
      socket.on('model:updated', (u) => client.updates.push(u));
      socket.on('round:fit', (rawTask, ack) => {
        void (async () => {
          const task = fitTaskSchema.parse(rawTask);
          // Tasks name the model version; the fake asks model:get for it, and the body must arrive intact and aligned.
          task.weights ??= wireWeightsSchema.parse(await modelOf(socket, task.modelVersion));
          decodeWeights(task.weights);
          client.tasks.push(task);
          const answer = options.fit ? await options.fit(task, client) : { kind: 'update' as const, payload: constantUpdate(1, 10) };
          if (answer.kind === 'silent') return;
          if (answer.kind === 'disconnect') return socket.disconnect();
          if (answer.kind === 'ack') {
            if (answer.slotBytes !== undefined) await askSlot(socket, task, answer.slotBytes);
            return ack(answer.ack as Ack<FitReply>);
          }
          let plaintext =
            answer.compression || answer.pad === false
              ? encodeUpdatePayload(answer.payload, manifest, {
                  ...(answer.compression ? { compression: answer.compression } : {}),
                  ...(answer.pad === false ? { pad: false } : {}),
                })
              : encodeUpdatePayload(answer.payload);
          if (answer.tamper) plaintext = answer.tamper(plaintext);
          const binding = { roundId: task.roundId, clientId: client.clientId, taskId: task.taskId, modelVersion: task.modelVersion, ...answer.bindAs };
          const envelope = await seal(plaintext, binding, client.welcome.coordinatorPublicKey);
          if (task.uploadSlot && answer.slot !== false) {
            const refused = await askSlot(socket, task, answer.slot ?? envelope.ciphertext.length).then(
              () => undefined,
              (err: Error & { code?: string }) => ({ code: err.code ?? 'INTERNAL', message: err.message }),
            );
            // As the SDK does: a refused slot fails the task, and the update never travels.
            if (refused) return ack({ ok: false, error: refused } as Ack<FitReply>);
          }
          ack({ ok: true, value: { envelope } });
        })().catch(unlessClosed(socket));
      });
      socket.on('round:evaluate', (rawTask, ack) => {
        void (async () => {
          const task = fitTaskSchema.parse(rawTask);
          // Only a test that looks at the evaluated weights needs them: fetched by version, as a device would.
          if (options.evaluate) task.weights ??= wireWeightsSchema.parse(await modelOf(socket, task.modelVersion));
          const answer = options.evaluate ? options.evaluate(task) : { ok: true as const, value: { numExamples: 1, metrics: {} } };
          if (answer === 'silent') return;
          if ('raw' in answer) return ack(answer.raw as Ack<EvaluateReply>);
          if (!answer.ok) return ack(answer);
          const binding = evaluateBinding(task, client.clientId);
          ack({ ok: true, value: { envelope: await seal(encodeEvaluateMetrics(answer.value), binding, client.welcome.coordinatorPublicKey) } });
        })().catch(unlessClosed(socket));
      });
      resolve(client);
    });
  });
}

/**
 * A task handler's failure once the test has closed the socket (model:get cut off by close()) is the test's own
 * doing, not a finding: swallowed, so it cannot surface as an unhandled rejection in whatever test runs next.
 * While connected, the failure is rethrown and fails the run.
 */
function unlessClosed(socket: ClientIo): (err: unknown) => void {
  return (err) => {
    if (socket.connected) throw err;
  };
}

/** The weights of `modelVersion` through model:get, as a device that does not hold it asks for them. */
export async function modelOf(socket: ClientIo, modelVersion: number): Promise<unknown> {
  const reply = (await socket.timeout(10_000).emitWithAck('model:get', { modelVersion })) as Ack<{ weights: unknown }>;
  if (!reply.ok) throw new Error(`model:get ${modelVersion}: ${reply.error.code} ${reply.error.message}`);
  return reply.value.weights;
}

const deviceKeys = new Map<string, SignKeyPair>();

/** The key a fake device with this id keeps (one per id per test run, as a real device keeps its store). */
export function deviceKeyOf(clientId: string): SignKeyPair {
  let key = deviceKeys.get(clientId);
  if (!key) deviceKeys.set(clientId, (key = generateSignKeyPair()));
  return key;
}

/** The handshake a client sends with its device key (the one thing every test client shares). */
export function handshakeFor(clientId: string, identity: SignKeyPair, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { protocolVersion: PROTOCOL_VERSION, clientId, publicKey: toHex(identity.publicKey), ...extra };
}

/**
 * A raw socket.io-client socket that answers the coordinator's challenge with `identity`; a refused
 * proof is re-emitted locally as 'proof-refused' with the error.
 */
export function connectProving(url: string, clientId: string, identity: SignKeyPair, extra: Record<string, unknown> = {}): ClientIo {
  const socket: ClientIo = connect(url, {
    auth: handshakeFor(clientId, identity, extra),
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  socket.on('session:challenge', (raw) => {
    const c = challengeSchema.parse(raw);
    const proof = signHandshakeProof(identity.secretKey, { nonce: c.nonce, clientId, fingerprint: c.fingerprint, protocolVersion: PROTOCOL_VERSION });
    socket.emit('session:prove', proof, (reply) => {
      if (!reply.ok) (socket as unknown as { listeners(e: string): Array<(e: ErrorInfo) => void> }).listeners('proof-refused').forEach((l) => l(reply.error));
    });
  });
  return socket;
}

/** The `data` a refused connection carries. */
export function connectErrorData(err: unknown): ErrorInfo | undefined {
  return (err as { data?: ErrorInfo }).data;
}

/** Resolves with the next emission of a coordinator event. */
export function next<K extends keyof CoordinatorEvents>(coordinator: Coordinator, event: K, timeoutMs = 5_000): Promise<CoordinatorEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (...args: CoordinatorEvents[K]): void => {
      clearTimeout(timer);
      resolve(args[0]);
    };
    (coordinator.once as (e: K, l: (...a: CoordinatorEvents[K]) => void) => unknown)(event, listener);
  });
}

export function until(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** Upload pacing as a device does it: ask upload:slot for the sealed size and wait for the grant (throws the refusal). */
export async function askSlot(socket: ClientIo, task: { roundId: number; taskId: string }, bytes: number): Promise<void> {
  const reply = (await socket.timeout(60_000).emitWithAck('upload:slot', { roundId: task.roundId, taskId: task.taskId, bytes })) as Ack<unknown>;
  if (!reply.ok) throw Object.assign(new Error(`upload slot refused: ${reply.error.message}`), { code: reply.error.code });
}
