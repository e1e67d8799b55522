import { Socket } from 'socket.io';
import type { ServerToClientEvents } from '@fedrec/protocol';
import type { ClientSocket } from './socket-types.js';

export type RequestOutcome = { kind: 'reply'; reply: unknown } | { kind: 'failure'; code: 'TIMEOUT' | 'DISCONNECTED' | 'ABORTED'; message: string };

/** Server-to-client events a client answers through an ack. */
export type RequestEvent = 'round:fit' | 'round:evaluate' | 'secagg:advertise' | 'secagg:roster' | 'secagg:forward' | 'secagg:unmask';
export type RequestPayload<E extends RequestEvent> = Parameters<ServerToClientEvents[E]>[0];

/**
 * The ack-bearing emit, typed loosely once here (each event's payload is checked by the signature below).
 * A callback, not emitWithAck: the ack then settles synchronously when its packet is read, so a client that
 * answers and hangs up at once (both packets in one read) counts as having answered.
 */
type PlainEmitter = { emit(event: string, payload: unknown, ack: (reply: unknown) => void): unknown };
/** The same after `timeout(ms)`: Socket.IO then passes an error (the timeout) or null first. */
type TimedEmitter = { emit(event: string, payload: unknown, ack: (err: unknown, reply: unknown) => void): unknown };

/**
 * Sends a request and waits for the client's ack until the deadline. A client that times out,
 * disconnects, or is still busy when the coordinator stops becomes a failure, never a hang.
 *
 * The deadline is this function's own timer, cleared however the request ends. Not Socket.IO's
 * `socket.timeout(ms)`: its timer is cleared only by the ack or by its own expiry, never by a disconnect
 * or by closing the server, so every request in flight when the coordinator stopped kept the process
 * alive until its deadline (up to the round deadline: minutes after a time-limited run had printed its
 * report). Without that flag Socket.IO keeps the ack callback, not a timer, until the client answers
 * (late answers are ignored below) or the socket closes.
 */
export function requestWithDeadline<E extends RequestEvent>(
  socket: ClientSocket,
  event: E,
  payload: RequestPayload<E>,
  deadline: number,
  signal: AbortSignal,
): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: RequestOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      stopWatching();
      resolve(outcome);
    };
    const onDisconnect = (reason: string): void => finish({ kind: 'failure', code: 'DISCONNECTED', message: `client disconnected (${reason})` });
    const onAbort = (): void => finish({ kind: 'failure', code: 'ABORTED', message: 'coordinator is stopping' });

    const waitMs = Math.max(1, deadline - Date.now());
    const onTimeout = (): void => finish({ kind: 'failure', code: 'TIMEOUT', message: `no answer within ${waitMs} ms` });
    const timer = setTimeout(onTimeout, waitMs);

    let stopWatching = (): void => {};
    if (signal.aborted) return onAbort();
    if (!socket.connected) return onDisconnect('before dispatch');
    socket.once('disconnect', onDisconnect);
    stopWatching = onAbortOf(signal, onAbort);

    const onReply = (reply: unknown): void => finish({ kind: 'reply', reply });
    if ((socket as unknown) instanceof Socket) (socket as unknown as PlainEmitter).emit(event, payload, onReply);
    else
      // A client on another node (cluster/remote-client.ts) is reached by a broadcast, whose ack Socket.IO
      // can only close with its own timeout; the timer above still settles the request first.
      (socket.timeout(waitMs) as unknown as TimedEmitter).emit(event, payload, (err, reply) => (err ? onTimeout() : onReply(reply)));
  });
}

/**
 * Calls `listener` once when `signal` aborts; returns the function that stops watching. One 'abort'
 * listener per signal fans out to a Set: a phase puts thousands of requests on one signal, and an
 * EventTarget's removeEventListener walks its listener list, so removing each request's own listener as
 * it settled cost O(requests) each, O(requests²) a round (0.35 ms per update at 1,000 clients, on the
 * event loop, in a profile of the coordinator bench).
 */
function onAbortOf(signal: AbortSignal, listener: () => void): () => void {
  let set = watchers.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    watchers.set(signal, (set = fresh));
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const l of fresh) l();
      },
      { once: true },
    );
  }
  set.add(listener);
  return () => set.delete(listener);
}
const watchers = new WeakMap<AbortSignal, Set<() => void>>();
