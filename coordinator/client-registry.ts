import type { ClientSocket } from './socket-types.js';
import type { ClientInfo } from './strategy/strategy.js';

/** Connected clients by id: one live socket per client id, the newest connection wins. */
export class ClientRegistry {
  private readonly sockets = new Map<string, ClientSocket>();
  private readonly waiters = new Set<() => void>();

  /** Registers a socket; returns the older socket of the same client, which the caller should close. */
  add(socket: ClientSocket): ClientSocket | undefined {
    const previous = this.sockets.get(socket.data.clientId);
    this.sockets.set(socket.data.clientId, socket);
    for (const wake of this.waiters) wake();
    return previous === socket ? undefined : previous;
  }

  /** Forgets a socket, unless it was already replaced by a newer connection. */
  remove(socket: ClientSocket): boolean {
    if (this.sockets.get(socket.data.clientId) !== socket) return false;
    this.sockets.delete(socket.data.clientId);
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
    const counts: Record<string, number> = {};
    for (const s of this.sockets.values()) {
      const r = s.data.runtime;
      const key = r ? `${r.engine}/${r.backend}` : 'unreported';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
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
