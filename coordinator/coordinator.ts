import { EventEmitter } from 'node:events';
import { Router } from 'express';
import { ProtocolError, catalogueAddRequestSchema, fingerprint } from '@fedrec/protocol';
import type { CatalogueAddResult, CatalogueItem, CatalogueSnapshot, KeyPair, ModelUpdated, Weights } from '@fedrec/protocol';
import { join } from 'node:path';
import { AddressLimits } from './address-limits.js';
import { Catalogue } from './catalogue.js';
import { numItemsOf } from './catalogue-growth.js';
import { CatalogueKeeper } from './catalogue-keeper.js';
import { catalogueRoutes } from './catalogue-routes.js';
import { ClientRegistry } from './client-registry.js';
import { EnrolmentPolicy } from './enrolment.js';
import { IDENTITIES_FILE, IdentityRegistry } from './identity-registry.js';
import type { IdentityStore } from './identity-registry.js';
import { LogRateLimiter } from './log-limiter.js';
import { OperatorAccess, pseudonymKeyFrom } from './operator-access.js';
import { ensurePrivateDirectory } from './private-dir.js';
import { handleConnections } from './connection-handler.js';
import type { CoordinatorEvents } from './events.js';
import { errorFields } from './logger.js';
import type { CoordinatorView } from './coordinator-view.js';
import { createMetrics } from './metrics.js';
import { ModelFileCache, ModelServing } from './model-file.js';
import { parseCoordinatorOptions } from './options.js';
import type { CoordinatorOptions, ResolvedOptions } from './options.js';
import { CoordinatorPersistence } from './persistence.js';
import { createRestApp } from './rest.js';
import { RoundEngine } from './round-engine.js';
import { BufferedEngine } from './buffered/buffered-engine.js';
import { registerBufferedMetrics } from './buffered/buffered-metrics.js';
import type { CoordinatorEngine } from './coordinator-engine.js';
import { subscribeRoundMetrics } from './round-metrics.js';
import type { RoundRecord } from './round-record.js';
import { createCoordinatorServer } from './server.js';
import type { CoordinatorHttpServer } from './server.js';
import type { CoordinatorState } from './state.js';
import { coordinatorStatus } from './status.js';
import { UpdatePolicy } from './strategy/update-policy.js';
import { createPrivacyGuard } from './privacy/create-privacy-guard.js';
import type { PrivacyGuard } from './privacy/privacy-guard.js';
import type { CoordinatorStatus } from './coordinator-status.js';

export interface Coordinator extends CoordinatorView {
  /** Loads keys and the latest checkpoint, listens, and starts the round loop. */
  start(): Promise<{ port: number; url: string }>;
  /** Stops the round loop, disconnects clients, closes the HTTP server. Idempotent. */
  stop(): Promise<void>;
  /** Operator rollback: an earlier version's weights served under a new version (see RoundEngine.rollback). */
  rollback(toVersion?: number, reason?: string): Promise<{ modelVersion: number; from: number }>;
  readonly options: ResolvedOptions;
  /** The catalogue (app item ids -> rows, popularity), or the items added after version `since`. */
  catalogue(since?: number): CatalogueSnapshot;
  /** Adds items between rounds (continuous mode): grows the model, commits, checkpoints, announces. */
  addCatalogueItems(items: readonly CatalogueItem[]): Promise<CatalogueAddResult>;
}

/** Creates an independent coordinator (no globals: several can run in one process). */
export function createCoordinator(input: CoordinatorOptions): Coordinator {
  const options = parseCoordinatorOptions(input);
  return new FederatedCoordinator(options);
}

/**
 * Assembles the parts: persistence (keys, checkpoints), the server (REST + Socket.IO), connection
 * handling, the round engine, and the metrics that follow its events. It owns the state they share.
 */
class FederatedCoordinator extends EventEmitter<CoordinatorEvents> implements Coordinator {
  readonly options: ResolvedOptions;
  private readonly state: CoordinatorState;
  private readonly registry: ClientRegistry;
  private readonly metrics = createMetrics();
  private readonly persistence: CoordinatorPersistence;
  private readonly modelFile = new ModelFileCache();
  private readonly modelServing: ModelServing;
  private readonly identities: IdentityStore;
  private readonly logs: LogRateLimiter;
  private keyPair: KeyPair | undefined;
  private engine: CoordinatorEngine | undefined;
  private server: CoordinatorHttpServer | undefined;
  private startedAt: number | null = null;
  private stopping: Promise<void> | undefined;
  private keeper: CatalogueKeeper | undefined;
  private readonly privacy: PrivacyGuard | undefined;

  constructor(options: ResolvedOptions) {
    super();
    this.options = options;
    this.modelServing = new ModelServing(options.compression);
    this.state = {
      global: options.initialWeights,
      modelSpec: options.modelSpec,
      modelVersion: 0,
      catalogue: options.catalogue ? Catalogue.of(options.catalogue) : Catalogue.numeric(numItemsOf(options.modelSpec) ?? 0),
      nextRoundId: 0,
      history: [],
      phase: 'idle',
      current: null,
      roundsCommitted: 0,
      roundsAbandoned: 0,
      rollbacks: 0,
      updatePolicy: new UpdatePolicy(options.updatePolicy),
    };
    this.persistence = new CoordinatorPersistence(options);
    // Bindings live beside the checkpoints: one directory is a whole coordinator (or in Redis, shared by the nodes of a cluster).
    this.identities =
      options.cluster?.identities ?? new IdentityRegistry(options.checkpointDir ? join(options.checkpointDir, IDENTITIES_FILE) : undefined, options.logger);
    this.registry = options.cluster?.localRegistry ?? new ClientRegistry();
    this.logs = new LogRateLimiter(options.logger, options.logLinesPerClientPerMinute);
    this.privacy = createPrivacyGuard(options);
    // First listener, so a throwing user listener cannot keep the metrics behind.
    subscribeRoundMetrics(this, this.metrics);
  }

  get modelVersion(): number {
    return this.state.modelVersion;
  }

  async start(): Promise<{ port: number; url: string }> {
    if (this.startedAt !== null || this.stopping) throw new Error('coordinator already started');
    this.startedAt = Date.now();
    const o = this.options;
    const logger = o.logger;
    if (o.checkpointDir) await ensurePrivateDirectory(o.checkpointDir, logger);
    const cluster = o.cluster;
    // Nodes of a cluster share one key file: the first creates it under a cluster-wide lock.
    const keyPair = await (cluster ? cluster.exclusive(() => this.persistence.loadKeyPair()) : this.persistence.loadKeyPair());
    this.keyPair = keyPair;
    await this.persistence.restoreOrInitialize(this.state);
    await this.identities.load();
    await this.privacy?.load();
    if (this.privacy) this.metrics.privacyEpsilon.set(this.privacy.epsilon);

    const operator = new OperatorAccess(o.operatorToken, pseudonymKeyFrom(keyPair.secretKey), o.tls !== undefined, o.trustProxy);
    const extraRoutes = Router();
    // Models without item rows (no numItems) have no catalogue to announce.
    const hasCatalogue = (): boolean => numItemsOf(this.state.modelSpec) !== undefined;
    const localAnnounce = (update: ModelUpdated): void => {
      // io.local: with a cluster's adapter, each node tells its own clients once it has loaded the version.
      this.server?.io.local.emit('model:updated', hasCatalogue() ? { ...update, catalogueVersion: this.state.catalogue.catalogueVersion } : update);
    };
    const announce = (update: ModelUpdated): void => (cluster ? cluster.announce(update) : localAnnounce(update));
    // On a cluster node every checkpoint write is fenced by the leader lease (cluster/leader-lease.ts).
    const fenced = (modelVersion: number, save: () => Promise<void>): Promise<void> => (cluster ? cluster.fencedSave(modelVersion, save) : save());
    const catalogue = new CatalogueKeeper({
      options: o,
      state: this.state,
      betweenRounds: (work) => {
        if (!this.engine) return Promise.reject(new Error('coordinator not started'));
        return this.engine.betweenRounds(work);
      },
      persist: (snapshot, grown) => fenced(snapshot.modelVersion, () => this.persistence.save(snapshot, this.state.updatePolicy, grown.toJSON())),
      announce,
      emit: (event, ...args) => this.safeEmit(event, ...args),
    });
    this.keeper = catalogue;
    const app = createRestApp({
      operator,
      status: () => this.status(),
      history: () => this.state.history,
      modelFile: () => this.modelFile.get(this.state),
      metrics: this.metrics.registry,
      rollback: (toVersion) => this.rollback(toVersion),
      corsOrigin: o.corsOrigin,
      logger,
      extraRoutes,
      // Catalogue writes take the operator's write check, like every other write route.
      catalogueRoutes: catalogueRoutes({
        snapshot: (since) => this.state.catalogue.snapshot(since),
        add: (items) => catalogue.add(items),
        guard: operator.writeGuard,
        logger,
      }),
    });
    const server = createCoordinatorServer(app, o);
    this.server = server;
    await cluster?.attach({
      io: server.io,
      state: this.state,
      keyPair,
      persistence: this.persistence,
      strategy: o.strategy,
      localAnnounce,
      emitCommitted: (record) => this.safeEmit('round:committed', record),
      rollback: (toVersion, reason) => (this.engine ? this.engine.rollback(toVersion, reason) : Promise.reject(new Error('coordinator not started'))),
      logger,
    });
    handleConnections(server.io, {
      authToken: o.authToken,
      registry: this.registry,
      identities: this.identities,
      enrolment: new EnrolmentPolicy(o.allowedKeys, o.enrolmentKey),
      limits: new AddressLimits(o),
      logs: this.logs,
      trustProxy: o.trustProxy,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      metrics: this.metrics,
      keyPair,
      emit: (event, ...args) => this.safeEmit(event, ...args),
      modelVersion: () => this.state.modelVersion,
      snapshot: (modelVersion) => this.modelServing.snapshot(this.state, modelVersion),
      catalogueVersion: () => (hasCatalogue() ? this.state.catalogue.catalogueVersion : undefined),
      catalogue: (since) => this.state.catalogue.snapshot(since),
      logger,
    });
    for (const ext of o.extensions)
      await ext.attach({ routes: extraRoutes, io: server.io, coordinator: this, logger: logger.child({ extension: ext.name }), operator });
    const { port, url } = await server.listen();

    const Engine = o.mode === 'buffered' ? BufferedEngine : RoundEngine;
    this.engine = new Engine({
      options: o,
      state: this.state,
      registry: cluster?.roundRegistry ?? this.registry,
      ...(cluster ? { leadership: cluster } : {}),
      keyPair,
      emit: (event, ...args) => this.safeEmit(event, ...args),
      persist: (snapshot) => fenced(snapshot.modelVersion, () => this.persistence.save(snapshot, this.state.updatePolicy, this.state.catalogue.toJSON())),
      durable: this.persistence.durable,
      loadCheckpoint: (v) => this.persistence.load(v),
      announce,
      committed: (manifest, sums, modelVersion) => this.state.catalogue.addPopularity(manifest, sums.rowWeightSums, modelVersion),
      logger,
      ...(this.privacy ? { privacy: this.privacy } : {}),
    });
    if (this.engine instanceof BufferedEngine) registerBufferedMetrics(this.metrics.registry, this.engine);
    this.metrics.modelVersion.set(this.state.modelVersion);
    logger.info(
      {
        url,
        fingerprint: fingerprint(keyPair.publicKey),
        modelVersion: this.state.modelVersion,
        strategy: o.strategy.name,
        mode: o.rounds === 'continuous' ? 'continuous' : 'fixed',
        aggregation: o.mode,
      },
      'coordinator listening',
    );
    if (!o.tls && !/^(127\.|::1$|localhost$)/.test(o.host) && (o.authToken !== undefined || o.operatorToken !== undefined)) {
      // Fine behind a TLS-terminating proxy on this host; otherwise the secrets cross the network in clear text.
      logger.warn({ host: o.host }, 'tokens are set but TLS is not: serve with tls (--tls-cert/--tls-key) or behind a TLS reverse proxy');
    }
    this.engine.start();
    return { port, url };
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await this.engine?.stop();
    await this.options.fitCollector.close?.();
    for (const ext of this.options.extensions) await ext.detach?.();
    this.state.phase = 'stopped';
    await this.server?.close();
    await this.identities.flush();
    await this.options.cluster?.detach();
    this.logs.flush();
    this.options.logger.info('coordinator stopped');
  }

  /**
   * Serves an earlier version's weights (and strategy state) under a new version number; undefined =
   * the newest kept model older than the one served. Waits for a round in progress.
   */
  rollback(toVersion?: number, reason = 'operator'): Promise<{ modelVersion: number; from: number }> {
    const engine = this.engine;
    if (!engine) return Promise.reject(new Error('coordinator not started'));
    // A follower cannot commit (its fenced save would refuse): the cluster runs it on the leader.
    const cluster = this.options.cluster;
    if (cluster) return cluster.rollback(toVersion, reason);
    return engine.rollback(toVersion, reason);
  }

  status(): CoordinatorStatus {
    const status = coordinatorStatus(this.options, this.state, {
      connectedClients: this.registry.size,
      clientRuntimes: this.registry.runtimes(),
      keyPair: this.keyPair,
      startedAt: this.startedAt,
      privacy: this.privacy?.status(),
    });
    return this.engine instanceof BufferedEngine ? { ...status, buffered: this.engine.status() } : status;
  }

  catalogue(since?: number): CatalogueSnapshot {
    return this.state.catalogue.snapshot(since);
  }

  addCatalogueItems(items: readonly CatalogueItem[]): Promise<CatalogueAddResult> {
    const parsed = catalogueAddRequestSchema.safeParse({ items });
    if (!parsed.success)
      return Promise.reject(new ProtocolError('INVALID_PAYLOAD', `invalid catalogue items: ${parsed.error.issues[0]?.message ?? 'invalid'}`));
    if (!this.keeper) return Promise.reject(new Error('coordinator not started'));
    return this.keeper.add(parsed.data.items);
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
        this.off('catalogue:grown', onCommit);
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
      // A catalogue growth commits a version too.
      this.on('catalogue:grown', onCommit);
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
}
