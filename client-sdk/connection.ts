import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  EnvelopeSealer,
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ErrorCode,
  type ClientRuntime,
  type Handshake,
  type ParsedWelcome,
  type ServerToClientEvents,
  type SignKeyPair,
  toHex,
} from '@fedrec/protocol';
import { backoffDelay } from './backoff.js';
import type { FederatedClientEvents, WelcomeInfo } from './client-events.js';
import type { EventSink } from './emitter.js';
import { FederatedClientError, isErrorCode } from './errors.js';
import { answerChallenge, checkWelcome } from './handshake.js';
import { transportFailure } from './transport-errors.js';
import type { Logger } from './logger.js';
import { checkTransport } from './transport.js';

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

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = { enabled: true, initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5 };

export type ClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'closed';

/**
 * Every move the connection may make; staying in a state is always allowed. `failed` and `closed`
 * are left only by an explicit connect(). Anything else is a bug, and transition() throws.
 */
export const CONNECTION_TRANSITIONS: { readonly [S in ClientState]: readonly ClientState[] } = {
  idle: ['connecting', 'closed'],
  // Welcomed, refused/untrusted/timed out, or closed by the app.
  connecting: ['ready', 'failed', 'closed'],
  // The link dropped (socket.io retries, or we do after a server hang-up), a new welcome failed the checks, or closed.
  ready: ['reconnecting', 'failed', 'closed'],
  // connect() while retrying waits for the next welcome as a fresh connect.
  reconnecting: ['ready', 'connecting', 'failed', 'closed'],
  failed: ['connecting', 'closed'],
  closed: ['connecting'],
};

export function canTransition(from: ClientState, to: ClientState): boolean {
  return from === to || CONNECTION_TRANSITIONS[from].includes(to);
}

/** Who the device is: its client id and the signing key the id is bound to. */
export interface PreparedClient {
  clientId: string;
  identity: SignKeyPair;
}

export interface ConnectionOptions {
  /** Coordinator URL, e.g. "https://fedrec.example.com" (plain http only on loopback, or with allowInsecure). */
  url: string;
  token?: string;
  /** Enrolment mode: the token the app's backend signed for (client id, device public key). */
  enrolmentToken?: string;
  /** Allow http:// / ws:// to a host other than loopback (the handshake and token then cross in clear text). */
  allowInsecure?: boolean;
  /** Node: extra CA certificate(s) (PEM) to trust for https, e.g. a self-signed coordinator's. Browsers use their own store. */
  ca?: string | string[];
  /** Refuse a coordinator whose key fingerprint ("sha512:…") differs. */
  pinnedFingerprint?: string;
  reconnect?: ReconnectOptions;
  /** How long connect() waits for a welcome before giving up (default 20 000 ms; 0 = no limit). */
  connectTimeoutMs?: number;
  /**
   * Keep retrying a first connect() that finds the coordinator refusing connections, unknown in DNS or
   * failing TLS, until connectTimeoutMs (default false: reject at once with CONNECTION_REFUSED,
   * HOST_NOT_FOUND or TLS_ERROR). After a first welcome, drops are always retried.
   */
  waitForCoordinator?: boolean;
  /** Socket.IO path on the server. */
  path?: string;
  /** Default: socket.io-client's `io`. */
  socketFactory?: SocketFactory;
  logger: Logger;
  events: EventSink<FederatedClientEvents>;
  /** Work before the first socket opens (client id, device key, tfjs backend); resolves to who to announce. */
  prepare(): Promise<PreparedClient>;
  /** Adds the listeners of the client's other parts (tasks, model updates) to each new socket. */
  attach(socket: ClientSocket): void;
  /** A welcome passed the checks; called before connect() resolves and before the `welcome` event. */
  welcomed(welcome: ParsedWelcome, info: WelcomeInfo): void;
  /** Draws the jitter of the hang-up backoff (default Math.random). */
  random?: () => number;
  /** The engine and tfjs backend to announce in the handshake, read at each (re)connect. */
  runtime?: () => ClientRuntime;
}

interface PendingConnect {
  promise: Promise<WelcomeInfo>;
  resolve: (w: WelcomeInfo) => void;
  reject: (e: Error) => void;
}

/** The code a coordinator attached to a refused connection (middleware `err.data.code`, or the message itself). */
function refusalCode(err: Error & { data?: unknown }): ErrorCode {
  const data = err.data as { code?: unknown } | undefined;
  if (isErrorCode(data?.code)) return data.code;
  if (isErrorCode(err.message)) return err.message;
  return 'UNAUTHORIZED';
}

/**
 * A client's link to its coordinator as a state machine (CONNECTION_TRANSITIONS): connect and
 * handshake, the welcome's checks (version, fingerprint, pin), reconnection with backoff, refusal
 * (stop for good) and close. It knows nothing of tasks: `attach` hands each socket to the parts that do.
 */
export class Connection {
  private readonly options: ConnectionOptions;
  private readonly reconnect: Required<ReconnectOptions>;
  private current: ClientState = 'idle';
  private socket: ClientSocket | undefined;
  private clientId: string | undefined;
  private identity: SignKeyPair | undefined;
  private pending: PendingConnect | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private kickTimer: ReturnType<typeof setTimeout> | undefined;
  private kicks = 0;
  private lastWelcome: WelcomeInfo | undefined;
  private coordinatorFingerprint: string | undefined;
  /** Seals this connection's updates to the coordinator key from the welcome (one key agreement per session). */
  private envelopeSealer: EnvelopeSealer | undefined;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  get state(): ClientState {
    return this.current;
  }

  /** The key fingerprint of the last coordinator that welcomed us (kept across reconnects). */
  get fingerprint(): string | undefined {
    return this.coordinatorFingerprint;
  }

  /** Seals to the key of the last welcome; undefined before the first one. */
  get sealer(): EnvelopeSealer | undefined {
    return this.envelopeSealer;
  }

  /** The socket, while the handshake is done and the link is up. */
  get readySocket(): ClientSocket | undefined {
    return this.current === 'ready' ? this.socket : undefined;
  }

  /**
   * Connects and resolves once the coordinator's welcome is checked. Rejects with a
   * FederatedClientError carrying the code when the coordinator refuses or cannot be trusted.
   */
  connect(): Promise<WelcomeInfo> {
    if (this.current === 'ready' && this.lastWelcome) return Promise.resolve(this.lastWelcome);
    if (this.pending) return this.pending.promise;
    let resolve!: (w: WelcomeInfo) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<WelcomeInfo>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending = { promise, resolve, reject };
    this.transition('connecting');
    this.start().catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
    return promise;
  }

  /** Disconnects for good (until connect() is called again). */
  close(): void {
    this.transition('closed');
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

  private transition(to: ClientState): void {
    if (!canTransition(this.current, to)) throw new Error(`connection cannot go from ${this.current} to ${to}`);
    this.current = to;
  }

  private async start(): Promise<void> {
    checkTransport(this.options.url, this.options.allowInsecure ?? false);
    const prepared = await this.options.prepare();
    this.clientId = prepared.clientId;
    this.identity = prepared.identity;
    if (this.current !== 'connecting') return; // closed while we were getting ready
    const timeout = this.options.connectTimeoutMs ?? 20_000;
    if (timeout > 0) {
      this.connectTimer = setTimeout(
        () => this.fail(new FederatedClientError('CONNECT_TIMEOUT', `no welcome from ${this.options.url} within ${timeout} ms`)),
        timeout,
      );
    }
    this.openSocket(this.clientId, prepared.identity);
  }

  private openSocket(clientId: string, identity: SignKeyPair): void {
    const { url, path, token, enrolmentToken, ca, logger, events } = this.options;
    const handshake: Handshake = {
      protocolVersion: PROTOCOL_VERSION,
      clientId,
      publicKey: toHex(identity.publicKey),
      ...(token !== undefined ? { token } : {}),
      ...(enrolmentToken !== undefined ? { enrolment: enrolmentToken } : {}),
    };
    const factory = this.options.socketFactory ?? (io as SocketFactory);
    const socket = factory(url, {
      autoConnect: false,
      forceNew: true,
      transports: ['websocket'],
      reconnection: this.reconnect.enabled,
      reconnectionDelay: this.reconnect.initialDelayMs,
      reconnectionDelayMax: this.reconnect.maxDelayMs,
      randomizationFactor: this.reconnect.jitter,
      ...(path !== undefined ? { path } : {}),
      ...(ca !== undefined ? { ca } : {}),
      auth: (cb: (data: Handshake) => void) => {
        const runtime = this.options.runtime?.();
        cb({ ...handshake, ...(runtime ? { runtime } : {}) });
      },
    });
    this.socket = socket;

    socket.on('connect', () => {
      logger.debug({ clientId }, 'socket connected, waiting for welcome');
      events.emit('connected', { clientId });
    });
    socket.on('connect_error', (err: Error & { data?: unknown }) => this.onConnectError(socket, err));
    socket.on('disconnect', (reason) => this.onDisconnect(socket, reason));
    socket.io.on('reconnect_attempt', (attempt) => {
      if (this.current === 'ready') this.transition('reconnecting');
      logger.info({ attempt }, 'reconnecting');
      events.emit('reconnecting', { attempt });
    });
    socket.on('session:challenge', (raw) => this.onChallenge(socket, raw));
    socket.on('session:welcome', (raw) => this.onWelcome(raw));
    this.options.attach(socket);
    socket.connect();
  }

  /** Signs the coordinator's nonce; a refused proof (IDENTITY_MISMATCH, PROOF_REJECTED) stops the client for good. */
  private onChallenge(socket: ClientSocket, raw: unknown): void {
    try {
      const proof = answerChallenge(raw, this.clientId!, this.identity!, this.options.pinnedFingerprint);
      socket
        .timeout(this.options.connectTimeoutMs || 20_000)
        .emitWithAck('session:prove', proof)
        .then(
          (reply) => {
            if (this.socket !== socket || reply.ok) return;
            const code = isErrorCode(reply.error.code) ? reply.error.code : 'UNAUTHORIZED';
            this.fail(new FederatedClientError(code, `coordinator refused the device proof (${code}): ${reply.error.message}`));
          },
          // No answer: the connection dropped or the coordinator is slow; the connect timeout or a reconnect covers it.
          (err: unknown) => this.options.logger.debug({ err: String(err) }, 'no answer to the handshake proof'),
        );
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onWelcome(raw: unknown): void {
    const { logger } = this.options;
    try {
      const welcome = checkWelcome(raw, this.options.pinnedFingerprint);
      if (this.coordinatorFingerprint !== undefined && this.coordinatorFingerprint !== welcome.fingerprint) {
        logger.warn({ previous: this.coordinatorFingerprint, now: welcome.fingerprint }, 'coordinator key changed');
      }
      if (welcome.clientId !== this.clientId) logger.warn({ ours: this.clientId, theirs: welcome.clientId }, 'welcome names another client id');
      this.envelopeSealer = new EnvelopeSealer(new Uint8Array(welcome.coordinatorPublicKey));
      this.coordinatorFingerprint = welcome.fingerprint;
      this.transition('ready');
      this.kicks = 0;
      this.clearConnectTimer();
      const info: WelcomeInfo = {
        clientId: this.clientId!,
        protocolVersion: welcome.protocolVersion,
        fingerprint: welcome.fingerprint,
        modelVersion: welcome.modelVersion,
      };
      this.lastWelcome = info;
      this.options.welcomed(welcome, info);
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(info);
      this.options.events.emit('welcome', info);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onConnectError(socket: ClientSocket, err: Error & { data?: unknown; description?: unknown }): void {
    // A first connect that cannot reach the coordinator says why at once rather than after the timeout.
    const unreachable = this.pending && this.lastWelcome === undefined && !this.options.waitForCoordinator ? transportFailure(err) : undefined;
    if (unreachable) {
      this.fail(new FederatedClientError(unreachable.code, `cannot reach the coordinator at ${this.options.url} (${unreachable.detail})`, { cause: err }));
      return;
    }
    if (socket.active) {
      // A transport problem (coordinator down, network): socket.io retries with backoff.
      this.options.logger.debug({ err: err.message }, 'connection attempt failed, will retry');
      return;
    }
    const code = refusalCode(err);
    if (code === 'RATE_LIMITED' && this.reconnect.enabled) {
      // Busy, not a verdict on us: back off and try again.
      const delay = backoffDelay(this.reconnect, this.kicks++, this.options.random);
      this.options.logger.info({ delay }, 'coordinator rate-limited the connection; retrying');
      this.kickTimer = setTimeout(() => {
        this.kickTimer = undefined;
        if (this.socket === socket && this.current !== 'closed' && this.current !== 'failed') socket.connect();
      }, delay);
      return;
    }
    this.fail(new FederatedClientError(code, `coordinator refused the connection (${code}): ${err.message}`, { cause: err }));
  }

  private onDisconnect(socket: ClientSocket, reason: string): void {
    if (this.current === 'closed' || this.current === 'failed') return;
    this.transition(this.pending ? 'connecting' : 'reconnecting');
    this.options.logger.info({ reason }, 'disconnected');
    this.options.events.emit('disconnected', { reason });
    // socket.io does not retry when the server hung up on purpose; a coordinator restart looks
    // like that too, so retry ourselves with the same backoff.
    if (reason === 'io server disconnect' && this.reconnect.enabled) {
      const delay = backoffDelay(this.reconnect, this.kicks++, this.options.random);
      this.kickTimer = setTimeout(() => {
        this.kickTimer = undefined;
        if (this.socket === socket && this.current !== 'closed' && this.current !== 'failed') {
          this.options.events.emit('reconnecting', { attempt: this.kicks });
          socket.connect();
        }
      }, delay);
    }
  }

  /** A refusal or an untrusted coordinator: stop for good and tell whoever is waiting. */
  private fail(err: Error): void {
    if (this.current === 'closed') return;
    this.transition('failed');
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    }
    this.options.logger.error({ code: (err as FederatedClientError).code, err: err.message }, 'client stopped');
    if (this.pending) this.rejectPending(err);
    else this.options.events.emit('error', err);
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
