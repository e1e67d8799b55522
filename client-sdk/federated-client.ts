import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  EnvelopeSealer,
  ERROR_CODES,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeWeights,
  evaluateTaskSchema,
  fitTaskSchema,
  modelSnapshotSchema,
  modelUpdatedSchema,
  roundResultSchema,
  secAggFitTaskSchema,
  type ClientToServerEvents,
  type ErrorCode,
  type EvaluateReply,
  type FitReply,
  type ParsedEvaluateTask,
  type ParsedFitTask,
  type RoundResult,
  type Handshake,
  type ModelSpec,
  type ModelUpdated,
  type ServerToClientEvents,
  type Weights,
} from '@fedrec/protocol';
import { selectBackend } from './backend.js';
import { generateClientId, isValidClientId } from './client-id.js';
import { TypedEmitter } from './emitter.js';
import { FederatedClientError, errorMessage } from './errors.js';
import { checkWelcome } from './handshake.js';
import { silentLogger, type Logger } from './logger.js';
import { runEvaluateTask, runFitTask } from './round-tasks.js';
import { serveAck } from './serve.js';
import { forwardedSharesSchema, rosterSchema, unmaskRequestSchema } from '@fedrec/protocol/secagg-messages.js';
import { pack, packedSchema } from '@fedrec/protocol/packed.js';
import { SecAggParticipant, type SecAggStageName } from './secagg-participant.js';
import { behaviourInputSchema, type BehaviourEvent, type BehaviourInput } from './store/behaviour-event.js';
import { getString, type BehaviourStore } from './store/behaviour-store.js';
import { MemoryStore } from './store/memory-store.js';
import { isRecommender, type Recommendation, type Trainer } from './trainer.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type SocketFactory = (url: string, options: Partial<ManagerOptions & SocketOptions>) => ClientSocket;

export interface ReconnectOptions {
  /** Reconnect after a dropped connection (default true). */
  enabled?: boolean;
  /** First retry delay (default 500 ms); doubles per attempt up to maxDelayMs. */
  initialDelayMs?: number;
  /** Ceiling for the retry delay (default 10 000 ms). */
  maxDelayMs?: number;
  /** Random spread of each delay, 0..1 (default 0.5) so clients do not reconnect in lockstep. */
  jitter?: number;
}

export interface FederatedClientOptions {
  /** Coordinator URL, e.g. "http://localhost:8080". */
  url: string;
  trainer: Trainer;
  /** Default: read from the store, or generated and saved there. */
  clientId?: string;
  /** Default: an in-memory store. */
  store?: BehaviourStore;
  /** Refuse a coordinator whose key fingerprint ("sha512:…") differs. */
  pinnedFingerprint?: string;
  token?: string;
  logger?: Logger;
  reconnect?: ReconnectOptions;
  /** How long connect() waits for a welcome before giving up (default 20 000 ms; 0 = no limit). */
  connectTimeoutMs?: number;
  /** Ack timeout for requests the client makes (model:get), default 30 000 ms. */
  requestTimeoutMs?: number;
  /** A tfjs backend to force, or false to skip backend selection (a trainer without tfjs). */
  backend?: string | false;
  /** Where the wasm backend's .wasm files live (URL prefix in browsers). */
  wasmPaths?: string;
  /** Socket.IO path on the server (default "/socket.io"). */
  path?: string;
  /** Swap the socket.io-client `io` function (tests, custom transports). */
  socketFactory?: SocketFactory;
}

export type ClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'closed';

export interface ClientStatus {
  state: ClientState;
  connected: boolean;
  clientId: string | undefined;
  coordinatorFingerprint: string | undefined;
  lastRoundId: number | undefined;
  modelVersion: number | undefined;
  backend: string | undefined;
  busy: boolean;
}

export interface WelcomeInfo {
  clientId: string;
  protocolVersion: number;
  fingerprint: string;
  modelVersion: number;
}

export interface TaskFailure {
  kind: 'fit' | 'evaluate';
  roundId: number;
  taskId: string;
  code: ErrorCode;
  message: string;
}

export interface FederatedClientEvents {
  connected: { clientId: string };
  disconnected: { reason: string };
  reconnecting: { attempt: number };
  welcome: WelcomeInfo;
  'fit:start': { roundId: number; taskId: string; modelVersion: number };
  'fit:done': { roundId: number; taskId: string; numExamples: number; bytesSent: number; metrics: Record<string, number>; durationMs: number };
  'evaluate:start': { roundId: number; taskId: string; modelVersion: number };
  'evaluate:done': { roundId: number; taskId: string; numExamples: number; metrics: Record<string, number>; durationMs: number };
  'task:failed': TaskFailure;
  'model:updated': ModelUpdated;
  /** The coordinator's verdict on one of this client's fit replies (accepted, or why not). */
  'round:result': RoundResult;
  /** Secure aggregation: this client's answer to a stage is ready and goes out now. */
  'secagg:stage': { roundId: number; taskId: string; stage: SecAggStageName };
  error: Error;
}

export interface FetchedModel {
  modelVersion: number;
  modelSpec: ModelSpec;
  weights: Weights;
}

export const CLIENT_ID_KEY = 'fedrec:clientId';

const DEFAULT_RECONNECT = { enabled: true, initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5 } as const;

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

/** The code a coordinator attached to a refused connection (middleware `err.data.code`, or the message itself). */
function refusalCode(err: Error & { data?: unknown }): ErrorCode {
  const data = err.data as { code?: unknown } | undefined;
  if (isErrorCode(data?.code)) return data.code;
  if (isErrorCode(err.message)) return err.message;
  return 'UNAUTHORIZED';
}

/**
 * A device's connection to a coordinator: handshake, round participation (train, seal, reply)
 * and the local behaviour log. The same class runs in Node and in browsers.
 */
export class FederatedClient {
  private readonly options: FederatedClientOptions;
  private readonly logger: Logger;
  private readonly emitter: TypedEmitter<FederatedClientEvents>;
  readonly store: BehaviourStore;
  private readonly reconnect: Required<ReconnectOptions>;

  private socket: ClientSocket | undefined;
  private state: ClientState = 'idle';
  private id: string | undefined;
  /** Seals this connection's updates to the coordinator key from the welcome (one key agreement per session). */
  private sealer: EnvelopeSealer | undefined;
  private coordinatorFingerprint: string | undefined;
  private lastRound: number | undefined;
  private knownModelVersion: number | undefined;
  private chosenBackend: string | undefined;
  private busy = false;
  private pending: { promise: Promise<WelcomeInfo>; resolve: (w: WelcomeInfo) => void; reject: (e: Error) => void } | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private kickTimer: ReturnType<typeof setTimeout> | undefined;
  private kicks = 0;
  private lastWelcome: WelcomeInfo | undefined;
  private readonly secagg: SecAggParticipant;

  constructor(options: FederatedClientOptions) {
    if (options.clientId !== undefined && !isValidClientId(options.clientId)) {
      throw new FederatedClientError('INVALID_PAYLOAD', `client id "${options.clientId}" must be 1-128 of [A-Za-z0-9_.:-]`);
    }
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.store = options.store ?? new MemoryStore();
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.emitter = new TypedEmitter<FederatedClientEvents>((err, event) =>
      this.logger.error({ event: String(event), err: errorMessage(err) }, 'event listener threw'),
    );
    this.id = options.clientId;
    this.secagg = new SecAggParticipant({
      trainer: options.trainer,
      logger: this.logger,
      clientId: () => this.id,
      isBusy: () => this.busy,
      exclusive: (work) => this.exclusive(work),
      fitStarted: (meta) => {
        this.lastRound = meta.roundId;
        this.emitter.emit('fit:start', meta);
      },
      fitDone: (done) => this.emitter.emit('fit:done', done),
      fitFailed: (task, err) => this.reportTaskFailure('fit', task, err),
      stageAnswered: (progress) => this.emitter.emit('secagg:stage', progress),
    });
  }

  // ---- events -------------------------------------------------------------------------------

  on<E extends keyof FederatedClientEvents>(event: E, listener: (payload: FederatedClientEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  once<E extends keyof FederatedClientEvents>(event: E, listener: (payload: FederatedClientEvents[E]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  off<E extends keyof FederatedClientEvents>(event: E, listener: (payload: FederatedClientEvents[E]) => void): void {
    this.emitter.off(event, listener);
  }

  // ---- status -------------------------------------------------------------------------------

  /** True once the handshake is done and the welcome was accepted, until the connection drops. */
  get connected(): boolean {
    return this.state === 'ready';
  }

  get clientId(): string | undefined {
    return this.id;
  }

  get fingerprint(): string | undefined {
    return this.coordinatorFingerprint;
  }

  get lastRoundId(): number | undefined {
    return this.lastRound;
  }

  get modelVersion(): number | undefined {
    return this.knownModelVersion;
  }

  get backend(): string | undefined {
    return this.chosenBackend;
  }

  get status(): ClientStatus {
    return {
      state: this.state,
      connected: this.connected,
      clientId: this.id,
      coordinatorFingerprint: this.coordinatorFingerprint,
      lastRoundId: this.lastRound,
      modelVersion: this.knownModelVersion,
      backend: this.chosenBackend,
      busy: this.busy,
    };
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Connects and resolves once the coordinator's welcome is checked (protocol version, key
   * fingerprint). Rejects with a FederatedClientError carrying the code when the coordinator
   * refuses or cannot be trusted; the client then stops retrying.
   */
  connect(): Promise<WelcomeInfo> {
    if (this.state === 'ready' && this.lastWelcome) return Promise.resolve(this.lastWelcome);
    if (this.pending) return this.pending.promise;
    let resolve!: (w: WelcomeInfo) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<WelcomeInfo>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending = { promise, resolve, reject };
    this.state = 'connecting';
    this.start().catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
    return promise;
  }

  /** Disconnects for good (until connect() is called again). The store stays open: it is the app's. */
  async close(): Promise<void> {
    this.state = 'closed';
    this.clearTimers();
    this.rejectPending(new FederatedClientError('CLOSED', 'client closed before the handshake completed'));
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.disconnect();
      socket.removeAllListeners();
      socket.io.removeAllListeners();
    }
  }

  /** Adds one behaviour event to the local store (timestamp defaults to now). */
  async record(event: BehaviourInput): Promise<BehaviourEvent> {
    const parsed = behaviourInputSchema.safeParse(event);
    if (!parsed.success) throw new FederatedClientError('INVALID_PAYLOAD', `invalid behaviour event: ${parsed.error.message}`);
    const full: BehaviourEvent = { ...parsed.data, timestamp: parsed.data.timestamp ?? Date.now() };
    await this.store.append(full);
    return full;
  }

  /** Asks the coordinator for the current global model (outside any round). */
  /**
   * The top k items for this user, computed on the device from the newest global model and the
   * private embedding (fetched first when the trainer's copy is older). Needs a Recommender trainer.
   */
  async recommend(k: number): Promise<Recommendation[]> {
    const trainer = this.options.trainer;
    if (!isRecommender(trainer)) throw new FederatedClientError('NOT_SUPPORTED', 'recommend() needs a trainer that can recommend (e.g. LiveRecsysTrainer)');
    if (!Number.isInteger(k) || k < 1) throw new FederatedClientError('INVALID_PAYLOAD', `recommend(k) needs a whole k >= 1, got ${k}`);
    const stale = trainer.modelVersion === undefined || (this.knownModelVersion !== undefined && trainer.modelVersion < this.knownModelVersion);
    if (stale) {
      const model = await this.fetchModel();
      trainer.setGlobal(model.modelSpec, model.weights, model.modelVersion);
    }
    return trainer.recommend(k);
  }

  async fetchModel(): Promise<FetchedModel> {
    const socket = this.socket;
    if (!socket || !this.connected) throw new FederatedClientError('NOT_CONNECTED', 'fetchModel() needs a connected client');
    let reply: unknown;
    try {
      reply = await socket.timeout(this.options.requestTimeoutMs ?? 30_000).emitWithAck('model:get');
    } catch (err) {
      throw new FederatedClientError('INTERNAL', `model:get got no answer: ${errorMessage(err)}`, { cause: err });
    }
    const ack = reply as { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } };
    if (ack?.ok !== true) {
      const code = isErrorCode(ack?.error?.code) ? ack.error.code : 'INTERNAL';
      throw new FederatedClientError(code, `model:get refused: ${String(ack?.error?.message ?? 'malformed reply')}`);
    }
    const snapshot = modelSnapshotSchema.safeParse(ack.value);
    if (!snapshot.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed model snapshot: ${snapshot.error.message}`);
    let weights: Weights;
    try {
      weights = decodeWeights(snapshot.data.weights);
    } catch (err) {
      throw new FederatedClientError('INVALID_PAYLOAD', `model snapshot weights: ${errorMessage(err)}`);
    }
    this.knownModelVersion = Math.max(this.knownModelVersion ?? 0, snapshot.data.modelVersion);
    return { modelVersion: snapshot.data.modelVersion, modelSpec: snapshot.data.modelSpec, weights };
  }

  // ---- internals ----------------------------------------------------------------------------

  private async start(): Promise<void> {
    this.id ??= await this.loadOrCreateClientId();
    if (this.options.backend !== false && this.chosenBackend === undefined) {
      this.chosenBackend = await selectBackend({
        logger: this.logger,
        ...(this.options.backend !== undefined ? { force: this.options.backend } : {}),
        ...(this.options.wasmPaths !== undefined ? { wasmPaths: this.options.wasmPaths } : {}),
      });
    }
    if (this.state !== 'connecting') return; // closed while we were getting ready
    const timeout = this.options.connectTimeoutMs ?? 20_000;
    if (timeout > 0) {
      this.connectTimer = setTimeout(
        () => this.fail(new FederatedClientError('CONNECT_TIMEOUT', `no welcome from ${this.options.url} within ${timeout} ms`)),
        timeout,
      );
    }
    this.openSocket();
  }

  private async loadOrCreateClientId(): Promise<string> {
    const stored = await getString(this.store, CLIENT_ID_KEY);
    if (stored && isValidClientId(stored)) return stored;
    const id = generateClientId();
    await this.store.set(CLIENT_ID_KEY, id);
    return id;
  }

  private openSocket(): void {
    const clientId = this.id!;
    const factory = this.options.socketFactory ?? (io as SocketFactory);
    const socket = factory(this.options.url, {
      autoConnect: false,
      forceNew: true,
      transports: ['websocket'],
      reconnection: this.reconnect.enabled,
      reconnectionDelay: this.reconnect.initialDelayMs,
      reconnectionDelayMax: this.reconnect.maxDelayMs,
      randomizationFactor: this.reconnect.jitter,
      ...(this.options.path !== undefined ? { path: this.options.path } : {}),
      auth: (cb: (data: Handshake) => void) =>
        cb({ protocolVersion: PROTOCOL_VERSION, clientId, ...(this.options.token !== undefined ? { token: this.options.token } : {}) }),
    });
    this.socket = socket;

    socket.on('connect', () => {
      this.logger.debug({ clientId }, 'socket connected, waiting for welcome');
      this.emitter.emit('connected', { clientId });
    });
    socket.on('connect_error', (err: Error & { data?: unknown }) => this.onConnectError(socket, err));
    socket.on('disconnect', (reason) => this.onDisconnect(socket, reason));
    socket.io.on('reconnect_attempt', (attempt) => {
      if (this.state === 'ready') this.state = 'reconnecting';
      this.logger.info({ attempt }, 'reconnecting');
      this.emitter.emit('reconnecting', { attempt });
    });
    socket.on('session:welcome', (raw) => this.onWelcome(raw));
    socket.on('model:updated', (raw) => this.onModelUpdated(raw));
    socket.on('round:fit', serveAck({ event: 'round:fit', schema: fitTaskSchema, logger: this.logger, handle: (t) => this.handleFit(t) }));
    socket.on(
      'round:evaluate',
      serveAck({ event: 'round:evaluate', schema: evaluateTaskSchema, logger: this.logger, handle: (t) => this.handleEvaluate(t) }),
    );
    socket.on('round:result', (raw) => this.onRoundResult(raw));
    const secagg = this.secagg;
    const logger = this.logger;
    socket.on('secagg:advertise', serveAck({ event: 'secagg:advertise', schema: secAggFitTaskSchema, logger, handle: async (t) => pack(await secagg.advertise(t)) }));
    socket.on('secagg:roster', serveAck({ event: 'secagg:roster', schema: packedSchema(rosterSchema), logger, handle: async (r) => pack(await secagg.shareKeys(r)) }));
    socket.on('secagg:forward', serveAck({ event: 'secagg:forward', schema: packedSchema(forwardedSharesSchema), logger, handle: async (f) => pack(await secagg.maskedInput(f)) }));
    socket.on('secagg:unmask', serveAck({ event: 'secagg:unmask', schema: packedSchema(unmaskRequestSchema), logger, handle: async (u) => pack(await secagg.unmask(u)) }));
    socket.connect();
  }

  private onWelcome(raw: unknown): void {
    try {
      const welcome = checkWelcome(raw, this.options.pinnedFingerprint);
      if (this.coordinatorFingerprint !== undefined && this.coordinatorFingerprint !== welcome.fingerprint) {
        this.logger.warn({ previous: this.coordinatorFingerprint, now: welcome.fingerprint }, 'coordinator key changed');
      }
      if (welcome.clientId !== this.id) this.logger.warn({ ours: this.id, theirs: welcome.clientId }, 'welcome names another client id');
      this.sealer = new EnvelopeSealer(new Uint8Array(welcome.coordinatorPublicKey));
      this.coordinatorFingerprint = welcome.fingerprint;
      this.knownModelVersion = welcome.modelVersion;
      this.state = 'ready';
      this.kicks = 0;
      this.clearConnectTimer();
      const info: WelcomeInfo = {
        clientId: this.id!,
        protocolVersion: welcome.protocolVersion,
        fingerprint: welcome.fingerprint,
        modelVersion: welcome.modelVersion,
      };
      this.lastWelcome = info;
      this.logger.info({ ...info, backend: this.chosenBackend }, 'welcomed by coordinator');
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(info);
      this.emitter.emit('welcome', info);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onConnectError(socket: ClientSocket, err: Error & { data?: unknown }): void {
    if (socket.active) {
      // A transport problem (coordinator down, network): socket.io retries with backoff.
      this.logger.debug({ err: err.message }, 'connection attempt failed, will retry');
      return;
    }
    const code = refusalCode(err);
    this.fail(new FederatedClientError(code, `coordinator refused the connection (${code}): ${err.message}`, { cause: err }));
  }

  private onDisconnect(socket: ClientSocket, reason: string): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.state = this.pending ? 'connecting' : 'reconnecting';
    this.logger.info({ reason }, 'disconnected');
    this.emitter.emit('disconnected', { reason });
    // socket.io does not retry when the server hung up on purpose; a coordinator restart looks
    // like that too, so retry ourselves with the same backoff.
    if (reason === 'io server disconnect' && this.reconnect.enabled) {
      const delay = this.backoffDelay(this.kicks++);
      this.kickTimer = setTimeout(() => {
        this.kickTimer = undefined;
        if (this.socket === socket && this.state !== 'closed' && this.state !== 'failed') {
          this.emitter.emit('reconnecting', { attempt: this.kicks });
          socket.connect();
        }
      }, delay);
    }
  }

  private backoffDelay(attempt: number): number {
    const base = Math.min(this.reconnect.maxDelayMs, this.reconnect.initialDelayMs * 2 ** Math.min(attempt, 30));
    const spread = base * this.reconnect.jitter;
    return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread));
  }

  private onModelUpdated(raw: unknown): void {
    const parsed = modelUpdatedSchema.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ err: parsed.error.message }, 'ignored malformed model:updated');
      return;
    }
    this.knownModelVersion = parsed.data.modelVersion;
    this.emitter.emit('model:updated', parsed.data);
  }

  private onRoundResult(raw: unknown): void {
    const parsed = roundResultSchema.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ err: parsed.error.message }, 'ignored malformed round:result');
      return;
    }
    const result = parsed.data;
    this.secagg.roundEnded(result.roundId);
    if (result.accepted) this.logger.debug({ roundId: result.roundId, taskId: result.taskId }, 'update accepted');
    else this.logger.warn({ roundId: result.roundId, taskId: result.taskId, ...result.error }, 'update rejected by the coordinator');
    this.emitter.emit('round:result', result);
  }

  /** One task at a time: a second one while training answers BUSY. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) throw new ProtocolError('BUSY', 'this client is already running a task');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private handleFit(task: ParsedFitTask): Promise<FitReply> {
    return this.exclusive(async () => {
      const sealer = this.sealer;
      if (!sealer || !this.id) throw new ProtocolError('INTERNAL', 'fit task before the welcome: no coordinator key to seal to');
      const started = Date.now();
      const meta = { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion };
      this.lastRound = task.roundId;
      this.logger.info(meta, 'fit task received');
      this.emitter.emit('fit:start', meta);
      try {
        const result = await runFitTask(task, this.options.trainer, this.id, sealer);
        const done = {
          roundId: task.roundId,
          taskId: task.taskId,
          numExamples: result.numExamples,
          bytesSent: result.bytesSent,
          metrics: result.metrics,
          durationMs: Date.now() - started,
        };
        this.logger.info(done, 'fit task done');
        this.emitter.emit('fit:done', done);
        return { envelope: result.envelope };
      } catch (err) {
        this.reportTaskFailure('fit', task, err);
        throw err;
      }
    });
  }

  private handleEvaluate(task: ParsedEvaluateTask): Promise<EvaluateReply> {
    return this.exclusive(async () => {
      const started = Date.now();
      const meta = { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion };
      this.lastRound = task.roundId;
      this.emitter.emit('evaluate:start', meta);
      try {
        const reply = await runEvaluateTask(task, this.options.trainer);
        const done = { roundId: task.roundId, taskId: task.taskId, ...reply, durationMs: Date.now() - started };
        this.logger.info(done, 'evaluate task done');
        this.emitter.emit('evaluate:done', done);
        return reply;
      } catch (err) {
        this.reportTaskFailure('evaluate', task, err);
        throw err;
      }
    });
  }

  private reportTaskFailure(kind: 'fit' | 'evaluate', task: { roundId: number; taskId: string }, err: unknown): void {
    const code: ErrorCode = err instanceof ProtocolError ? err.code : 'INTERNAL';
    this.emitter.emit('task:failed', { kind, roundId: task.roundId, taskId: task.taskId, code, message: errorMessage(err) });
  }

  /** A refusal or an untrusted coordinator: stop for good and tell whoever is waiting. */
  private fail(err: Error): void {
    if (this.state === 'closed') return;
    this.state = 'failed';
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    }
    this.logger.error({ code: (err as FederatedClientError).code, err: err.message }, 'client stopped');
    if (this.pending) this.rejectPending(err);
    else this.emitter.emit('error', err);
  }

  private rejectPending(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.kickTimer !== undefined) clearTimeout(this.kickTimer);
    this.kickTimer = undefined;
  }
}

export function createFederatedClient(options: FederatedClientOptions): FederatedClient {
  return new FederatedClient(options);
}
