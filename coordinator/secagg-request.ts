import type { ServerToClientEvents } from '../protocol/index.js';
import type { RequestOutcome } from './request.js';
import type { ClientSocket } from './socket-types.js';

export type SecAggStageEvent = 'secagg:advertise' | 'secagg:roster' | 'secagg:forward' | 'secagg:unmask';
export type SecAggStagePayload<E extends SecAggStageEvent> = Parameters<ServerToClientEvents[E]>[0];

/**
 * The ack-bearing emit, typed loosely once here (each event's payload type is checked by the signature below).
 * A callback, not emitWithAck: the ack then settles synchronously when its packet is read, so a client that
 * answers and hangs up at once (both packets in one read) counts as having answered.
 */
type LooseEmitter = { emit(event: string, payload: unknown, ack: (err: unknown, reply: unknown) => void): unknown };

/**
 * Sends one secure-aggregation stage message and waits for the ack until the stage deadline.
 * A client that times out, disconnects, or is still pending when the coordinator stops is a failure, not a hang.
 */
export function requestStage<E extends SecAggStageEvent>(
  socket: ClientSocket,
  event: E,
  payload: SecAggStagePayload<E>,
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
