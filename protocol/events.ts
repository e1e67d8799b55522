import type { Ack } from './errors.js';
import type { EvaluateReply, EvaluateTask, FitReply, FitTask, ModelSnapshot, ModelUpdated, RoundResult, Welcome } from './messages.js';

/**
 * Socket.IO event maps, declared once. The server takes them as
 * `Server<ClientToServerEvents, ServerToClientEvents>`, the client in the reverse order.
 * Request/response goes through acks; a client that never answers is a failure, not a hang.
 */
export interface ServerToClientEvents {
  'session:welcome': (welcome: Welcome) => void;
  'round:fit': (task: FitTask, ack: (reply: Ack<FitReply>) => void) => void;
  'round:evaluate': (task: EvaluateTask, ack: (reply: Ack<EvaluateReply>) => void) => void;
  'model:updated': (update: ModelUpdated) => void;
  /** Sent after a fit reply was judged (or the round closed on it): accepted, or rejected with a code. */
  'round:result': (result: RoundResult) => void;
}

export interface ClientToServerEvents {
  'model:get': (ack: (reply: Ack<ModelSnapshot>) => void) => void;
}
