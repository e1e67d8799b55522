import type { ClientSocket } from './socket-types.js';
import type { ClientInfo } from './strategy/strategy.js';

/** Connected clients by id: one live socket per client id, the newest connection wins. */
export class ClientRegistry {
  private readonly sockets = new Map<string, ClientSocket>();
  private readonly waiters = new Set<() => void>();
  /** Connected clients per announced runtime, kept as sockets come and go: /api/status reads it on every poll. */
  private readonly runtimeCounts = new Map<string, number>();

  /** Registers a socket; returns the older socket of the same client, which the caller should close. */
  add(socket: ClientSocket): ClientSocket | undefined {
    const previous = this.sockets.get(socket.data.clientId);
    if (previous === socket) return undefined;
    if (previous) this.count(previous, -1);
    this.sockets.set(socket.data.clientId, socket);
    this.count(socket, 1);
    for (const wake of this.waiters) wake();
    return previous;
  }

  /** Forgets a socket, unless it was already replaced by a newer connection. */
  remove(socket: ClientSocket): boolean {
    if (this.sockets.get(socket.data.clientId) !== socket) return false;
    this.sockets.delete(socket.data.clientId);
    this.count(socket, -1);
    return true;
  }

  get(clientId: string): ClientSocket | undefined {
    return this.sockets.get(clientId);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Connected clients by the runtime they announced, "engine/backend" → count ("unreported" for none). */
  runtimes(): Record<string, number> {
    return Object.fromEntries(this.runtimeCounts);
  }

  private count(socket: ClientSocket, by: 1 | -1): void {
    const r = socket.data.runtime;
    const key = r ? `${r.engine}/${r.backend}` : 'unreported';
    const n = (this.runtimeCounts.get(key) ?? 0) + by;
    if (n === 0) this.runtimeCounts.delete(key);
    else this.runtimeCounts.set(key, n);
  }

  list(): ClientInfo[] {
    return [...this.sockets.values()].map((s) => ({ clientId: s.data.clientId, connectedAt: s.data.connectedAt }));
  }

  /** Resolves once at least `count` clients are connected, or when the signal aborts. */
  waitForCount(count: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.sockets.size >= count || signal.aborted) {
          this.waiters.delete(check);
          signal.removeEventListener('abort', check);
          resolve();
        }
      };
      this.waiters.add(check);
      signal.addEventListener('abort', check, { once: true });
      check();
    });
  }
}
