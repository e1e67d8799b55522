import type { Namespace } from 'socket.io';
import { renameRecord, renameRoundStarted, renameStatus } from '@fedrec/coordinator';
import type { CoordinatorServer, CoordinatorView, RoundRecord, RoundStarted } from '@fedrec/coordinator';
import { DASHBOARD_NAMESPACE, type DashboardClient, type DashboardRound, type DashboardServerEvents, type DashboardSnapshot } from './types.js';
import { WireMeter } from './wire-meter.js';

export interface DashboardFeedOptions {
  /** Rounds sent in a snapshot (the newest ones). */
  historyLimit?: number;
  /** How client ids are shown to viewers (pseudonyms when viewers are not authenticated operators); default as they are. */
  clientName?: (clientId: string) => string;
  /** Namespace middleware run before a viewer connects (the operator check). */
  guard?: (socket: never, next: (err?: Error) => void) => void;
  /** How often the coordinator's status is checked for a change worth pushing (phase, clients, version). */
  statusEveryMs?: number;
}

/**
 * Pushes the coordinator's life to dashboard viewers over a Socket.IO namespace: a snapshot
 * on connect, then every round start and end, client arrival and departure as they happen.
 */
export class DashboardFeed {
  private readonly meter = new WireMeter();
  private readonly clients = new Map<string, DashboardClient>();
  private readonly traffic = new Map<number, DashboardRound['traffic']>();
  private current: RoundStarted | null = null;
  private atRoundStart = { bytesUp: 0, bytesDown: 0 };
  private nsp: Namespace<Record<string, never>, DashboardServerEvents> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly historyLimit: number;
  private readonly name: (clientId: string) => string;
  private readonly guard: DashboardFeedOptions['guard'];
  private readonly statusEveryMs: number;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private lastStatusKey = '';

  constructor(
    private readonly coordinator: CoordinatorView,
    options: DashboardFeedOptions = {},
  ) {
    this.historyLimit = options.historyLimit ?? 500;
    this.name = options.clientName ?? ((id) => id);
    this.guard = options.guard;
    this.statusEveryMs = options.statusEveryMs ?? 500;
  }

  attach(io: CoordinatorServer): void {
    this.meter.attach(io);
    // Viewers need no client handshake: the namespace has none of the main one's middleware.
    const nsp = (io as unknown as { of(name: string): Namespace<Record<string, never>, DashboardServerEvents> }).of(DASHBOARD_NAMESPACE);
    this.nsp = nsp;
    if (this.guard) nsp.use(this.guard as (socket: unknown, next: (err?: Error) => void) => void);
    nsp.on('connection', (socket) => socket.emit('dashboard:snapshot', this.snapshot()));

    const c = this.coordinator;
    const onStarted = (s: RoundStarted) => this.roundStarted(s);
    const onEnded = (r: RoundRecord) => this.roundEnded(r);
    const onConnected = ({ clientId, runtime }: { clientId: string; runtime?: { engine: string; backend: string } }) => {
      this.clients.set(clientId, {
        clientId,
        connectedAt: Date.now(),
        selected: this.current?.selected.includes(clientId) ?? false,
        roundsContributed: this.clients.get(clientId)?.roundsContributed ?? 0,
        ...(runtime ? { runtime: `${runtime.engine}/${runtime.backend}` } : {}),
      });
      this.pushClients();
    };
    const onDisconnected = ({ clientId }: { clientId: string }) => {
      this.clients.delete(clientId);
      this.pushClients();
    };
    c.on('round:started', onStarted);
    c.on('round:committed', onEnded);
    c.on('round:abandoned', onEnded);
    c.on('client:connected', onConnected);
    c.on('client:disconnected', onDisconnected);
    // The engine moves between phases without an event (waiting for clients, the pause between rounds):
    // a cheap check pushes each change, so the page's phase never lags behind /api/status.
    this.statusTimer = setInterval(() => this.pushStatusIfChanged(), this.statusEveryMs);
    this.statusTimer.unref();
    this.unsubscribe = () => {
      c.off('round:started', onStarted);
      c.off('round:committed', onEnded);
      c.off('round:abandoned', onEnded);
      c.off('client:connected', onConnected);
      c.off('client:disconnected', onDisconnected);
    };
  }

  detach(): void {
    if (this.statusTimer !== undefined) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.nsp?.disconnectSockets(true);
  }

  snapshot(): DashboardSnapshot {
    const rounds = this.coordinator
      .history()
      .slice(-this.historyLimit)
      .map((r) => this.withTraffic(r));
    return {
      status: renameStatus(this.coordinator.status(), this.name),
      rounds,
      clients: this.clientList(),
      current: this.current ? renameRoundStarted(this.current, this.name) : null,
    };
  }

  private withTraffic(r: RoundRecord): DashboardRound {
    return { ...renameRecord(r, this.name), traffic: this.traffic.get(r.roundId) ?? null };
  }

  private clientList(): DashboardClient[] {
    return [...this.clients.values()].map((c) => ({ ...c, clientId: this.name(c.clientId) }));
  }

  private roundStarted(s: RoundStarted): void {
    this.current = s;
    this.atRoundStart = this.meter.reading();
    for (const client of this.clients.values()) client.selected = s.selected.includes(client.clientId);
    this.nsp?.emit('dashboard:round-started', renameRoundStarted(s, this.name));
    this.pushClients();
    this.pushStatusIfChanged();
  }

  private roundEnded(r: RoundRecord): void {
    const now = this.meter.reading();
    if (this.current?.roundId === r.roundId) {
      this.traffic.set(r.roundId, { bytesUp: now.bytesUp - this.atRoundStart.bytesUp, bytesDown: now.bytesDown - this.atRoundStart.bytesDown });
      // Keep the map as long as the history the coordinator keeps.
      if (this.traffic.size > this.historyLimit * 2) this.traffic.delete(this.traffic.keys().next().value!);
    }
    this.current = null;
    for (const client of this.clients.values()) {
      client.selected = false;
      if (r.outcome === 'committed' && r.participants.includes(client.clientId)) client.roundsContributed++;
    }
    this.nsp?.emit('dashboard:round-ended', this.withTraffic(r));
    this.pushClients();
    // The engine leaves the round's phase just after this event: push the status it moves to.
    setImmediate(() => this.pushStatusIfChanged(true));
  }

  private pushStatusIfChanged(force = false): void {
    const status = this.coordinator.status();
    const key = `${status.phase}|${status.currentRound?.roundId ?? ''}|${status.connectedClients}|${status.modelVersion}|${status.roundsAbandoned}`;
    if (!force && key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    this.nsp?.emit('dashboard:status', renameStatus(status, this.name));
  }

  private pushClients(): void {
    this.nsp?.emit('dashboard:clients', this.clientList());
  }
}
