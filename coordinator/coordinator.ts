import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { Router } from 'express';
import { Server } from 'socket.io';
import { z } from 'zod';
import { PROTOCOL_VERSION, encodeWeights, fingerprint, sameSharedLayout, toHex } from '@fedrec/protocol';
import type { KeyPair, ModelSnapshot, Weights } from '@fedrec/protocol';
import { CheckpointStore } from './checkpoint-store.js';
import { ClientRegistry } from './client-registry.js';
import type { CoordinatorEvents } from './events.js';
import { encodeFramed } from './framed-file.js';
import { handshakeMiddleware } from './handshake.js';
import { loadOrCreateKeyPair } from './key-store.js';
import { errorFields } from './logger.js';
import { createMetrics } from './metrics.js';
import { parseCoordinatorOptions } from './options.js';
import type { CoordinatorOptions, ResolvedOptions } from './options.js';
import { createRestApp } from './rest.js';
import { RoundEngine } from './round-engine.js';
import type { RoundRecord } from './round-record.js';
import { socketHandler } from './socket-handler.js';
import type { ClientSocket, CoordinatorServer } from './socket-types.js';
import type { CoordinatorState } from './state.js';

export interface CoordinatorStatus {
  protocolVersion: number;
  phase: CoordinatorState['phase'];
  modelVersion: number;
  modelSpec: CoordinatorState['modelSpec'];
  nextRoundId: number;
  currentRound: CoordinatorState['current'];
  connectedClients: number;
  roundsCommitted: number;
  roundsAbandoned: number;
  mode: 'continuous' | 'fixed';
  roundsTarget: number | null;
  strategy: string;
  collector: string;
  fingerprint: string | null;
  publicKey: string | null;
  startedAt: number | null;
}

export interface Coordinator extends EventEmitter<CoordinatorEvents> {
  /** Loads keys and the latest checkpoint, listens, and starts the round loop. */
  start(): Promise<{ port: number; url: string }>;
  /** Stops the round loop, disconnects clients, closes the HTTP server. Idempotent. */
  stop(): Promise<void>;
  status(): CoordinatorStatus;
  history(): readonly RoundRecord[];
  currentWeights(): Weights;
  readonly modelVersion: number;
  readonly options: ResolvedOptions;
  /** Resolves once the model version reaches `version` (rejects on timeout or stop). */
  waitForVersion(version: number, timeoutMs?: number): Promise<void>;
}

/** Creates an independent coordinator (no globals: several can run in one process). */
export function createCoordinator(input: CoordinatorOptions): Coordinator {
  const options = parseCoordinatorOptions(input);
  return new FederatedCoordinator(options);
}

class FederatedCoordinator extends EventEmitter<CoordinatorEvents> implements Coordinator {
  readonly options: ResolvedOptions;
  private readonly state: CoordinatorState;
  private readonly registry = new ClientRegistry();
  private readonly metrics = createMetrics();
  private keyPair: KeyPair | undefined;
  private store: CheckpointStore | undefined;
  private engine: RoundEngine | undefined;
  private http: HttpServer | undefined;
  private io: CoordinatorServer | undefined;
  private startedAt: number | null = null;
  private stopping: Promise<void> | undefined;
  private snapshotCache: { modelVersion: number; framed: Uint8Array } | undefined;

  constructor(options: ResolvedOptions) {
    super();
    this.options = options;
    this.state = {
      global: options.initialWeights,
      modelSpec: options.modelSpec,
      modelVersion: 0,
      nextRoundId: 0,
      history: [],
      phase: 'idle',
      current: null,
      roundsCommitted: 0,
      roundsAbandoned: 0,
    };
  }

  get modelVersion(): number {
    return this.state.modelVersion;
  }

  async start(): Promise<{ port: number; url: string }> {
    if (this.startedAt !== null || this.stopping) throw new Error('coordinator already started');
    this.startedAt = Date.now();
    const o = this.options;
    const logger = o.logger;
    const keyFile = o.keyFile ?? (o.checkpointDir ? join(o.checkpointDir, 'coordinator-key.json') : undefined);
    this.keyPair = await loadOrCreateKeyPair(keyFile, logger);
    await this.restoreOrInitialize();

    const extraRoutes = Router();
    const app = createRestApp({
      status: () => this.status(),
      history: () => this.state.history,
      modelFile: () => this.modelFile(),
      metrics: this.metrics.registry,
      corsOrigin: o.corsOrigin,
      logger,
      extraRoutes,
    });
    const http = createServer(app);
    const io: CoordinatorServer = new Server(http, {
      serveClient: false,
      // An update is one ack packet: let it through up to the limit (plus room for framing) so TOO_LARGE can be reported.
      maxHttpBufferSize: o.maxUpdateBytes + 1024 * 1024,
      ...(o.corsOrigin !== undefined ? { cors: { origin: o.corsOrigin } } : {}),
    });
    io.use(handshakeMiddleware(o.authToken, logger));
    io.on('connection', (socket) => this.onConnection(socket));
    this.http = http;
    this.io = io;
    for (const ext of o.extensions) await ext.attach({ routes: extraRoutes, io, coordinator: this, logger: logger.child({ extension: ext.name }) });

    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port, o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (err) => logger.error(errorFields(err), 'http server error'));
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : o.port;
    const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

    this.engine = new RoundEngine({
      options: o,
      state: this.state,
      registry: this.registry,
      keyPair: this.keyPair,
      metrics: this.metrics,
      emit: (event, ...args) => this.safeEmit(event, ...args),
      persist: () => this.persist(),
      announce: (update) => this.io?.emit('model:updated', update),
      logger,
    });
    this.metrics.modelVersion.set(this.state.modelVersion);
    logger.info(
      { url, fingerprint: fingerprint(this.keyPair.publicKey), modelVersion: this.state.modelVersion, strategy: o.strategy.name, mode: o.rounds === 'continuous' ? 'continuous' : 'fixed' },
      'coordinator listening',
    );
    this.engine.start();
    return { port, url };
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await this.engine?.stop();
    for (const ext of this.options.extensions) await ext.detach?.();
    this.state.phase = 'stopped';
    const http = this.http;
    if (this.io) {
      const closed = this.io.close();
      http?.closeAllConnections();
      await closed.catch(() => {});
    } else if (http?.listening) {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    this.options.logger.info('coordinator stopped');
  }

  status(): CoordinatorStatus {
    const o = this.options;
    return {
      protocolVersion: PROTOCOL_VERSION,
      phase: this.state.phase,
      modelVersion: this.state.modelVersion,
      modelSpec: this.state.modelSpec,
      nextRoundId: this.state.nextRoundId,
      currentRound: this.state.current,
      connectedClients: this.registry.size,
      roundsCommitted: this.state.roundsCommitted,
      roundsAbandoned: this.state.roundsAbandoned,
      mode: o.rounds === 'continuous' ? 'continuous' : 'fixed',
      roundsTarget: o.rounds === 'continuous' ? null : o.rounds,
      strategy: o.strategy.name,
      collector: o.fitCollector.name,
      fingerprint: this.keyPair ? fingerprint(this.keyPair.publicKey) : null,
      publicKey: this.keyPair ? toHex(this.keyPair.publicKey) : null,
      startedAt: this.startedAt,
    };
  }

  history(): readonly RoundRecord[] {
    return this.state.history;
  }

  currentWeights(): Weights {
    return this.state.global;
  }

  waitForVersion(version: number, timeoutMs = 30_000): Promise<void> {
    if (this.state.modelVersion >= version) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('round:committed', onCommit);
        this.off('training:finished', onFinished);
      };
      const onCommit = (): void => {
        if (this.state.modelVersion < version) return;
        cleanup();
        resolve();
      };
      const onFinished = (): void => {
        cleanup();
        reject(new Error(`training finished at model version ${this.state.modelVersion}, before ${version}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`model version ${version} not reached within ${timeoutMs} ms (at ${this.state.modelVersion})`));
      }, timeoutMs);
      this.on('round:committed', onCommit);
      this.on('training:finished', onFinished);
    });
  }

  /** A listener that throws must not take the round loop down with it. */
  private safeEmit<K extends keyof CoordinatorEvents>(event: K, ...args: CoordinatorEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CoordinatorEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.options.logger.error({ event, ...errorFields(err) }, 'event listener threw');
    }
  }

  private async restoreOrInitialize(): Promise<void> {
    const o = this.options;
    if (o.checkpointDir) {
      this.store = new CheckpointStore(o.checkpointDir, o.keepCheckpoints, o.logger);
      await this.store.removeLeftovers();
      const restored = await this.store.loadLatest();
      if (restored) {
        if (!sameSharedLayout(restored.weights.manifest, o.initialWeights.manifest)) {
          throw new Error(`checkpoint in ${o.checkpointDir} has a different model layout than the configured model; use another checkpointDir`);
        }
        Object.assign(this.state, {
          global: restored.weights,
          modelSpec: restored.modelSpec,
          modelVersion: restored.modelVersion,
          nextRoundId: restored.nextRoundId,
          history: restored.history,
        });
        o.logger.info({ modelVersion: restored.modelVersion, nextRoundId: restored.nextRoundId, dir: o.checkpointDir }, 'resumed from checkpoint');
        return;
      }
    }
    const initialized = await o.strategy.initialize?.(o.initialWeights);
    if (initialized) this.state.global = initialized;
  }

  private async persist(): Promise<void> {
    if (!this.store) return;
    await this.store.save({
      modelVersion: this.state.modelVersion,
      nextRoundId: this.state.nextRoundId,
      modelSpec: this.state.modelSpec,
      weights: this.state.global,
      history: this.state.history,
      savedAt: Date.now(),
    });
  }

  private modelFile(): { modelVersion: number; bytes: Uint8Array } {
    const v = this.state.modelVersion;
    if (this.snapshotCache?.modelVersion !== v) {
      const header = { format: 'fedrec-weights', formatVersion: 1, modelVersion: v, modelSpec: this.state.modelSpec, manifest: this.state.global.manifest };
      this.snapshotCache = { modelVersion: v, framed: encodeFramed(header, this.state.global.body) };
    }
    return { modelVersion: v, bytes: this.snapshotCache.framed };
  }

  private onConnection(socket: ClientSocket): void {
    const logger = this.options.logger;
    const { clientId } = socket.data;
    const previous = this.registry.add(socket);
    if (previous) {
      logger.info({ clientId }, 'client reconnected; closing its older connection');
      previous.disconnect(true);
    }
    this.metrics.connectedClients.set(this.registry.size);
    logger.info({ clientId, connected: this.registry.size }, 'client connected');
    this.safeEmit('client:connected', { clientId });

    socket.on('disconnect', (reason) => {
      if (this.registry.remove(socket)) {
        this.metrics.connectedClients.set(this.registry.size);
        logger.info({ clientId, reason }, 'client disconnected');
        this.safeEmit('client:disconnected', { clientId, reason });
      }
    });
    socket.on(
      'model:get',
      socketHandler('model:get', z.undefined(), logger, (): ModelSnapshot => ({
        modelVersion: this.state.modelVersion,
        modelSpec: this.state.modelSpec,
        weights: encodeWeights(this.state.global),
      })),
    );
    // Unknown events with an ack get an answer instead of silence.
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === 'model:get') return;
      const ack = args.at(-1);
      logger.warn({ clientId, event }, 'unknown event');
      if (typeof ack === 'function') {
        try {
          (ack as (r: unknown) => void)({ ok: false, error: { code: 'INVALID_PAYLOAD', message: `unknown event ${event}` } });
        } catch (err) {
          logger.error(errorFields(err), 'ack failed');
        }
      }
    });

    const keyPair = this.keyPair!;
    socket.emit('session:welcome', {
      clientId,
      protocolVersion: PROTOCOL_VERSION,
      coordinatorPublicKey: keyPair.publicKey,
      fingerprint: fingerprint(keyPair.publicKey),
      modelVersion: this.state.modelVersion,
    });
  }
}
