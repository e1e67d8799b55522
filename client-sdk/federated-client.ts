import { toHex } from '@fedrec/protocol';
import { behaviourInputSchema, type BehaviourEvent, type BehaviourInput } from './store/behaviour-event.js';
import type { BehaviourStore } from './store/behaviour-store.js';
import { MemoryStore } from './store/memory-store.js';
import { selectBackend } from './backend.js';
import type { FederatedClientEvents, WelcomeInfo } from './client-events.js';
import { isValidClientId, loadOrCreateClientId, loadOrCreateDeviceIdentity } from './client-id.js';
import { Connection, type ClientSocket, type PreparedClient, type ClientState, type ReconnectOptions, type SocketFactory } from './connection.js';
import { TypedEmitter } from './emitter.js';
import { FederatedClientError, errorMessage } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { ModelFetch, type FetchedModel } from './model-fetch.js';
import { TaskRunner } from './task-runner.js';
import type { CorrectionJobRunner, MaskExpander, MaskWorkerExpander, ShareJobRunner } from './secagg-participant-host.js';
import { ErrorFeedback } from './error-feedback.js';
import { CatalogueFetch, isCatalogueAware } from './catalogue-fetch.js';
import type { ItemCatalogue } from './catalogue.js';
import { isRecommender, type Recommendation, type Trainer } from './trainer.js';

// The facade's vocabulary lives with the part it belongs to; it is re-exported here, where apps have always found it.
export type { FederatedClientEvents, TaskFailure, WelcomeInfo } from './client-events.js';
export { CLIENT_ID_KEY, DEVICE_KEY_KEY } from './client-id.js';
export type { ClientSocket, ClientState, ReconnectOptions, SocketFactory } from './connection.js';
export type { FetchedModel } from './model-fetch.js';

export interface FederatedClientOptions {
  /** Coordinator URL, e.g. "https://fedrec.example.com" (plain http only on loopback, or with allowInsecure). */
  url: string;
  trainer: Trainer;
  /** Default: read from the store, or generated and saved there. */
  clientId?: string;
  /** Default: an in-memory store. */
  store?: BehaviourStore;
  /** Refuse a coordinator whose key fingerprint ("sha512:…") differs. */
  pinnedFingerprint?: string;
  token?: string;
  /** Enrolment mode: the token the app's backend signed for this device (protocol signEnrolment over client id and devicePublicKey()). */
  enrolmentToken?: string;
  /** Allow http:// to a host other than loopback: the handshake and token then cross in clear text (default false). */
  allowInsecure?: boolean;
  /** Node: CA certificate(s) (PEM) to trust for https, e.g. a self-signed coordinator's. */
  ca?: string | string[];
  logger?: Logger;
  reconnect?: ReconnectOptions;
  /** How long connect() waits for a welcome before giving up (default 20 000 ms; 0 = no limit). */
  connectTimeoutMs?: number;
  /** Keep retrying a first connect() to an unreachable coordinator until connectTimeoutMs (default false: reject at once). */
  waitForCoordinator?: boolean;
  /** Ack timeout for requests the client makes (model:get), default 30 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Keep the copy of the global model in the store too, so a restarted device does not download a
   * version it already had (default true; the in-memory copy is kept either way).
   */
  persistModel?: boolean;
  /** A tfjs backend to force, or false to skip backend selection (a trainer without tfjs). */
  backend?: string | false;
  /** Where the wasm backend's .wasm files live (URL prefix in browsers). */
  wasmPaths?: string;
  /** Socket.IO path on the server (default "/socket.io"). */
  path?: string;
  /** Swap the socket.io-client `io` function (tests, custom transports). */
  socketFactory?: SocketFactory;
  /**
   * Where secure aggregation's device work runs: stage 1's share keys (k agreements, two Shamir splits, k seals),
   * stage 2's masks (k agreements and k + 1 mask expansions) and stage 3's unmask correction (one mask expansion per
   * dropped neighbour). Default: on this thread when the roster, the forwarded shares and the unmask request arrive,
   * which delays a training that runs on this thread by as much; createNodeClient passes a worker thread
   * (node/worker-mask-expander.ts) and createBrowserClient a Web Worker that run all three, so the first two overlap
   * training and none holds the page; such a worker is closed with the client. A bare MaskExpander function moves the masks only.
   */
  expandMasks?: MaskExpander | MaskWorkerExpander;
}

export interface ClientStatus {
  state: ClientState;
  connected: boolean;
  clientId: string | undefined;
  coordinatorFingerprint: string | undefined;
  lastRoundId: number | undefined;
  modelVersion: number | undefined;
  backend: string | undefined;
  /** The trainer's engine ("js", "tfjs"), when it reports one: with `backend`, what this device computes with. */
  engine: string | undefined;
  busy: boolean;
}

/**
 * A device's connection to a coordinator: handshake, round participation (train, seal, reply)
 * and the local behaviour log. The same class runs in Node and in browsers. A thin facade over
 * its parts: the connection state machine (connection.ts), the task runner (task-runner.ts, with
 * secure aggregation plugged in) and the global model's fetch (model-fetch.ts).
 */
export class FederatedClient {
  private readonly options: FederatedClientOptions;
  private readonly logger: Logger;
  private readonly emitter: TypedEmitter<FederatedClientEvents>;
  readonly store: BehaviourStore;
  private readonly connection: Connection;
  private readonly tasks: TaskRunner;
  private readonly model: ModelFetch;
  private readonly items: CatalogueFetch;
  private id: string | undefined;
  private chosenBackend: string | undefined;

  constructor(options: FederatedClientOptions) {
    if (options.clientId !== undefined && !isValidClientId(options.clientId)) {
      throw new FederatedClientError('INVALID_PAYLOAD', `client id "${options.clientId}" must be 1-128 of [A-Za-z0-9_.:-]`);
    }
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.store = options.store ?? new MemoryStore();
    const logger = this.logger;
    const events = (this.emitter = new TypedEmitter<FederatedClientEvents>((err, event) =>
      logger.error({ event: String(event), err: errorMessage(err) }, 'event listener threw'),
    ));
    this.id = options.clientId;
    this.model = new ModelFetch({
      socket: () => this.connection.readySocket,
      logger,
      events,
      store: this.store,
      ...(options.persistModel !== undefined ? { persist: options.persistModel } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.items = new CatalogueFetch({
      socket: () => this.connection.readySocket,
      store: this.store,
      target: isCatalogueAware(options.trainer) ? options.trainer : undefined,
      logger,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.tasks = new TaskRunner({
      trainer: options.trainer,
      logger,
      events,
      clientId: () => this.id,
      sealer: () => this.connection.sealer,
      // Tasks name a model version; the held copy serves it, or model:get brings it once.
      models: { wireFor: (v, waitMs) => this.model.wireFor(v, waitMs), catalogueHeard: (v) => this.items.heard(v) },
      feedback: new ErrorFeedback(this.store, logger),
      ...secAggJobRunners(options.expandMasks),
    });
    this.connection = new Connection({
      url: options.url,
      logger,
      events,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.enrolmentToken !== undefined ? { enrolmentToken: options.enrolmentToken } : {}),
      ...(options.allowInsecure !== undefined ? { allowInsecure: options.allowInsecure } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.pinnedFingerprint !== undefined ? { pinnedFingerprint: options.pinnedFingerprint } : {}),
      ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.waitForCoordinator !== undefined ? { waitForCoordinator: options.waitForCoordinator } : {}),
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {}),
      prepare: () => this.prepare(),
      runtime: () => ({ engine: this.engine ?? 'unknown', backend: this.chosenBackend ?? 'none' }),
      attach: (socket) => this.attach(socket),
      welcomed: (welcome, info) => {
        this.model.welcomed(welcome.modelVersion);
        this.items.heard(welcome.catalogueVersion);
        logger.info({ ...info, backend: this.chosenBackend }, 'welcomed by coordinator');
      },
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
    return this.connection.state === 'ready';
  }

  get clientId(): string | undefined {
    return this.id;
  }

  get fingerprint(): string | undefined {
    return this.connection.fingerprint;
  }

  get lastRoundId(): number | undefined {
    return this.tasks.lastRoundId;
  }

  get modelVersion(): number | undefined {
    return this.model.version;
  }

  get backend(): string | undefined {
    return this.chosenBackend;
  }

  /** The engine the trainer runs ('js', 'tfjs'; under 'auto', the shared rule's pick for the selected backend). */
  get engine(): string | undefined {
    return this.options.trainer.engine;
  }

  get status(): ClientStatus {
    return {
      state: this.connection.state,
      connected: this.connected,
      clientId: this.id,
      coordinatorFingerprint: this.connection.fingerprint,
      lastRoundId: this.tasks.lastRoundId,
      modelVersion: this.model.version,
      backend: this.chosenBackend,
      engine: this.engine,
      busy: this.tasks.isBusy(),
    };
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Connects and resolves once the coordinator's welcome is checked (protocol version, key
   * fingerprint). Rejects with a FederatedClientError carrying the code when the coordinator
   * refuses or cannot be trusted; the client then stops retrying.
   */
  connect(): Promise<WelcomeInfo> {
    return this.connection.connect();
  }

  /**
   * Disconnects for good (until connect() is called again) and stops the mask worker, if one was given (a later
   * masked round starts a new one). The store stays open: it is the app's.
   */
  async close(): Promise<void> {
    this.connection.close();
    const masks = this.options.expandMasks;
    if (masks !== undefined && typeof masks !== 'function') await masks.close();
  }

  /** The device's copy of the coordinator's catalogue (app item ids <-> model rows, popularity). */
  get catalogue(): ItemCatalogue & { readonly size: number } {
    return this.items.copy;
  }

  /** Brings the catalogue copy up to the coordinator's now (it also follows announcements on its own). */
  async fetchCatalogue(): Promise<ItemCatalogue> {
    await this.items.refresh();
    return this.items.copy;
  }

  /**
   * Adds one behaviour event to the local store (timestamp defaults to now). `itemId` is the app's id
   * (a string of 1-128 of [A-Za-z0-9_.:/@+-], or a whole number n meaning the id "n"); an id the
   * catalogue does not know yet is kept and used once it appears.
   */
  async record(event: BehaviourInput): Promise<BehaviourEvent> {
    const parsed = behaviourInputSchema.safeParse(event);
    if (!parsed.success) throw new FederatedClientError('INVALID_PAYLOAD', `invalid behaviour event: ${parsed.error.message}`);
    const full: BehaviourEvent = { ...parsed.data, timestamp: parsed.data.timestamp ?? Date.now() };
    await this.store.append(full);
    return full;
  }

  /**
   * The top k items for this user, computed on the device from the newest global model and the
   * private embedding (fetched first when the trainer's copy is older). Needs a Recommender trainer.
   */
  async recommend(k: number): Promise<Recommendation[]> {
    const trainer = this.options.trainer;
    if (!isRecommender(trainer)) throw new FederatedClientError('NOT_SUPPORTED', 'recommend() needs a trainer that can recommend (e.g. LiveRecsysTrainer)');
    if (!Number.isInteger(k) || k < 1) throw new FederatedClientError('INVALID_PAYLOAD', `recommend(k) needs a whole k >= 1, got ${k}`);
    await this.model.refresh(trainer);
    await this.items.ready();
    const numItems = Number(trainer.model?.spec.options['numItems'] ?? 0);
    if (this.items.stale(numItems) && this.connected) {
      // A failed refresh leaves the copy as it is: rows it does not name yet are not recommended.
      await this.items.refresh().catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'catalogue refresh failed; using the copy held'));
    }
    return trainer.recommend(k);
  }

  /** Asks the coordinator for the current global model (outside any round). */
  fetchModel(): Promise<FetchedModel> {
    return this.model.fetch();
  }

  // ---- wiring -------------------------------------------------------------------------------

  /**
   * The device's public signing key (hex), created and stored on first use: what an app backend signs
   * an enrolment token for, or what an operator puts on the allowed list.
   */
  async devicePublicKey(): Promise<string> {
    return toHex((await loadOrCreateDeviceIdentity(this.store)).publicKey);
  }

  /** Before the first socket: the client id and device key (from the store, or new) and the tfjs backend. */
  private async prepare(): Promise<PreparedClient> {
    this.id ??= await loadOrCreateClientId(this.store);
    const identity = await loadOrCreateDeviceIdentity(this.store);
    await this.items.ready();
    if (this.options.backend !== false && this.chosenBackend === undefined) {
      this.chosenBackend = await selectBackend({
        logger: this.logger,
        ...(this.options.backend !== undefined ? { force: this.options.backend } : {}),
        ...(this.options.wasmPaths !== undefined ? { wasmPaths: this.options.wasmPaths } : {}),
      });
    }
    return { clientId: this.id, identity };
  }

  /** Every new socket carries the tasks, model updates and verdicts to the parts that handle them. */
  private attach(socket: ClientSocket): void {
    socket.on('model:updated', (raw) => {
      this.model.updated(raw);
      this.items.updated(raw);
    });
    socket.on('round:result', (raw) => this.tasks.roundResult(raw));
    this.tasks.serve(socket);
  }
}

export function createFederatedClient(options: FederatedClientOptions): FederatedClient {
  return new FederatedClient(options);
}

/** The task runner's secure-aggregation job runners from the `expandMasks` option: a worker runs every kind it has, a function only the masks. */
function secAggJobRunners(option: FederatedClientOptions['expandMasks']): {
  expandMasks?: MaskExpander;
  runShareJobs?: ShareJobRunner;
  runCorrectionJobs?: CorrectionJobRunner;
} {
  if (option === undefined) return {};
  if (typeof option === 'function') return { expandMasks: option };
  return { expandMasks: option.expand, runShareJobs: option.runShareJob, ...(option.correct ? { runCorrectionJobs: option.correct } : {}) };
}
