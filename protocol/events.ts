import type { Ack } from './errors.js';
import type { AdvertiseKeys, ForwardedShares, MaskedInput, Roster, ShareKeys, UnmaskRequest, UnmaskResponse } from '../secagg/messages.js';
import type { EvaluateReply, EvaluateTask, FitReply, FitTask, ModelSnapshot, ModelUpdated, RoundResult, SecAggFitTask, Welcome } from './messages.js';

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
  /**
   * Secure aggregation, one event per stage, each answered through its ack (secagg/README.md).
   * Stage 0: the fit task of a masked round; the ack carries the client's fresh public keys, training starts.
   */
  'secagg:advertise': (task: SecAggFitTask, ack: (reply: Ack<AdvertiseKeys>) => void) => void;
  /** Stage 1: the roster and neighbours' keys; the ack carries the client's encrypted Shamir shares. */
  'secagg:roster': (roster: Roster, ack: (reply: Ack<ShareKeys>) => void) => void;
  /** Stage 2: shares routed from the neighbours; the ack (after training) carries the masked input. */
  'secagg:forward': (forwarded: ForwardedShares, ack: (reply: Ack<MaskedInput>) => void) => void;
  /** Stage 3: who survived and who dropped; the ack reveals one kind of share per peer, never both. */
  'secagg:unmask': (request: UnmaskRequest, ack: (reply: Ack<UnmaskResponse>) => void) => void;
}

export interface ClientToServerEvents {
  'model:get': (ack: (reply: Ack<ModelSnapshot>) => void) => void;
}
