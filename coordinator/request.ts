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
type LooseEmitter = { emit(event: string, payload: unknown, ack: (err: unknown, reply: unknown) => void): unknown };

/**
 * Sends a request and waits for the client's ack until the deadline. A client that times out,
 * disconnects, or is still busy when the coordinator stops becomes a failure, never a hang.
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
      socket.off('disconnect', onDisconnect);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onDisconnect = (reason: string): void => finish({ kind: 'failure', code: 'DISCONNECTED', message: `client disconnected (${reason})` });
    const onAbort = (): void => finish({ kind: 'failure', code: 'ABORTED', message: 'coordinator is stopping' });

    if (signal.aborted) return onAbort();
    if (!socket.connected) return onDisconnect('before dispatch');
    socket.once('disconnect', onDisconnect);
    signal.addEventListener('abort', onAbort, { once: true });

    const waitMs = Math.max(1, deadline - Date.now());
    (socket.timeout(waitMs) as unknown as LooseEmitter).emit(event, payload, (err, reply) => {
      if (err) finish({ kind: 'failure', code: 'TIMEOUT', message: `no answer within ${waitMs} ms` });
      else finish({ kind: 'reply', reply });
    });
  });
}
