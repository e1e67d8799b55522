// A stand-in for socket.io-client's Socket: tests fire its events by hand and see what the client did with it.
import type { ClientSocket, SocketFactory } from '@fedrec/client-sdk/connection.js';

type Listener = (...args: never[]) => unknown;

class Listeners {
  readonly map = new Map<string, Listener[]>();
  on(event: string, fn: Listener): this {
    this.map.set(event, [...(this.map.get(event) ?? []), fn]);
    return this;
  }
  removeAllListeners(): this {
    this.map.clear();
    return this;
  }
  fire(event: string, ...args: unknown[]): void {
    for (const fn of this.map.get(event) ?? []) (fn as (...a: unknown[]) => unknown)(...args);
  }
}

export class FakeSocket extends Listeners {
  readonly io = new Listeners();
  /** socket.io's `active`: true while it would retry by itself. */
  active = true;
  connects = 0;
  disconnects = 0;
  /** Answers emitWithAck('model:get'); set per test. */
  ack: (event: string) => Promise<unknown> = () => Promise.reject(new Error('no ack scripted'));

  constructor(
    readonly url: string,
    readonly options: Record<string, unknown>,
  ) {
    super();
  }
  connect(): this {
    this.connects++;
    return this;
  }
  disconnect(): this {
    this.disconnects++;
    return this;
  }
  /** Answers emitWithAck of anything else (session:prove); set per test. */
  emitWithAck: (event: string, payload: unknown) => Promise<unknown> = () => new Promise(() => {});
  timeout(_ms: number): { emitWithAck: (event: string, payload?: unknown) => Promise<unknown> } {
    return { emitWithAck: (event, payload) => (event === 'model:get' ? this.ack(event) : this.emitWithAck(event, payload)) };
  }
  /** The handshake the client would send (its `auth` callback). */
  handshake(): unknown {
    let data: unknown;
    (this.options.auth as (cb: (d: unknown) => void) => void)((d) => (data = d));
    return data;
  }
  asSocket(): ClientSocket {
    return this as unknown as ClientSocket;
  }
}

/** A socket factory that records every socket it makes and tells whoever waits for the next one. */
export function fakeSocketFactory(): { factory: SocketFactory; sockets: FakeSocket[]; next(): Promise<FakeSocket> } {
  const sockets: FakeSocket[] = [];
  let waiting: ((s: FakeSocket) => void) | undefined;
  const factory: SocketFactory = (url, options) => {
    const socket = new FakeSocket(url, options as Record<string, unknown>);
    sockets.push(socket);
    waiting?.(socket);
    waiting = undefined;
    return socket.asSocket();
  };
  return { factory, sockets, next: () => new Promise((resolve) => (waiting = resolve)) };
}
