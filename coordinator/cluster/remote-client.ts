import type { ClientSocket, CoordinatorServer } from '../socket-types.js';

type Ack = (err: unknown, reply: unknown) => void;

/**
 * Stands in for a client connected to another node, where the round engine expects its socket. Fit
 * tasks never go through it (ClusterFitCollector has the client's own node collect them, so updates are
 * summed where they arrive); anything else (evaluation, a verdict) reaches the client through the
 * Socket.IO Redis adapter: io.to(its socket id) on whichever node holds it.
 */
export class RemoteClient {
  readonly data: { clientId: string; connectedAt: number };

  constructor(
    private readonly io: CoordinatorServer,
    readonly nodeId: string,
    readonly id: string,
    clientId: string,
    connectedAt: number,
  ) {
    this.data = { clientId, connectedAt };
  }

  /** Whether it is still connected is its node's business: a gone client shows up as a TIMEOUT. */
  get connected(): boolean {
    return true;
  }

  once(): this {
    return this;
  }

  off(): this {
    return this;
  }

  emit(event: string, payload: unknown): boolean {
    (this.io.to(this.id) as unknown as { emit(e: string, p: unknown): void }).emit(event, payload);
    return true;
  }

  timeout(ms: number): { emit(event: string, payload: unknown, ack: Ack): void } {
    const target = this.io.to(this.id).timeout(ms) as unknown as { emit(e: string, p: unknown, cb: (err: unknown, replies: unknown[]) => void): void };
    return {
      emit: (event, payload, ack) =>
        target.emit(event, payload, (err, replies) => {
          // A broadcast ack answers with every socket's reply: exactly one here, or none when it has gone.
          if (err || !Array.isArray(replies) || replies.length === 0) ack(err ?? new Error('no reply'), undefined);
          else ack(null, replies[0]);
        }),
    };
  }

  /** Typed as the socket the engine's assignments carry; only the members above are ever used on it. */
  asSocket(): ClientSocket {
    return this as unknown as ClientSocket;
  }
}

export function isRemote(socket: ClientSocket): boolean {
  return (socket as unknown) instanceof RemoteClient;
}

export function remoteOf(socket: ClientSocket): RemoteClient | undefined {
  const s = socket as unknown;
  return s instanceof RemoteClient ? s : undefined;
}
