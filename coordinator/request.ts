import type { EvaluateTask, FitTask } from '../protocol/index.js';
import type { ClientSocket } from './socket-types.js';

export type RequestOutcome =
  | { kind: 'reply'; reply: unknown }
  | { kind: 'failure'; code: 'TIMEOUT' | 'DISCONNECTED' | 'ABORTED'; message: string };

type TaskEvent = { event: 'round:fit'; task: FitTask } | { event: 'round:evaluate'; task: EvaluateTask };

/**
 * Sends a task and waits for the client's ack until the deadline. A client that times out,
 * disconnects, or is still busy when the coordinator stops becomes a failure, never a hang.
 */
export function requestWithDeadline(socket: ClientSocket, request: TaskEvent, deadline: number, signal: AbortSignal): Promise<RequestOutcome> {
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
    const sent =
      request.event === 'round:fit'
        ? socket.timeout(waitMs).emitWithAck('round:fit', request.task)
        : socket.timeout(waitMs).emitWithAck('round:evaluate', request.task);
    sent.then(
      (reply: unknown) => finish({ kind: 'reply', reply }),
      () => finish({ kind: 'failure', code: 'TIMEOUT', message: `no answer within ${waitMs} ms` }),
    );
  });
}
