import type { Ack } from './errors.js';
import type { CatalogueGet, CatalogueSnapshot } from './catalogue.js';
import type { AdvertiseKeys, ForwardedShares, MaskedInput, Roster, ShareKeys, UnmaskRequest, UnmaskResponse } from './secagg-messages.js';
import type { Packed } from './packed.js';
import type { UploadSlotGrant, UploadSlotRequest } from './upload-slot.js';
import type { Challenge, Proof } from './identity.js';
import type { EvaluateReply, EvaluateTask, FitReply, FitTask, ModelGet, ModelSnapshot, ModelUpdated, RoundResult, SecAggFitTask, Welcome } from './messages.js';

/**
 * Socket.IO event maps, declared once. The server takes them as
 * `Server<ClientToServerEvents, ServerToClientEvents>`, the client in the reverse order.
 * Request/response goes through acks; a client that never answers is a failure, not a hang.
 */
export interface ServerToClientEvents {
  /** First event on a connection: a one-time nonce the device signs (answered by `session:prove`) before it is welcomed. */
  'session:challenge': (challenge: Challenge) => void;
  'session:welcome': (welcome: Welcome) => void;
  'round:fit': (task: FitTask, ack: (reply: Ack<FitReply>) => void) => void;
  'round:evaluate': (task: EvaluateTask, ack: (reply: Ack<EvaluateReply>) => void) => void;
  'model:updated': (update: ModelUpdated) => void;
  /** Sent after a fit reply was judged (or the round closed on it): accepted, or rejected with a code. */
  'round:result': (result: RoundResult) => void;
  /**
   * Secure aggregation, one event per stage, each answered through its ack (secagg/README.md). Stage
   * messages travel packed (protocol/packed.ts: all byte fields in one attachment) and are validated unpacked.
   * Stage 0: the fit task of a masked round; the ack carries the client's fresh public keys, training starts.
   */
  'secagg:advertise': (task: SecAggFitTask, ack: (reply: Ack<Packed<AdvertiseKeys>>) => void) => void;
  /** Stage 1: the roster and neighbours' keys; the ack carries the client's encrypted Shamir shares. */
  'secagg:roster': (roster: Packed<Roster>, ack: (reply: Ack<Packed<ShareKeys>>) => void) => void;
  /** Stage 2: shares routed from the neighbours; the ack (after training) carries the masked input. */
  'secagg:forward': (forwarded: Packed<ForwardedShares>, ack: (reply: Ack<Packed<MaskedInput>>) => void) => void;
  /** Stage 3: who survived and who dropped; the ack reveals one kind of share per peer, never both. */
  'secagg:unmask': (request: Packed<UnmaskRequest>, ack: (reply: Ack<Packed<UnmaskResponse>>) => void) => void;
}

export interface ClientToServerEvents {
  /** The signed challenge; the ack says whether the proof holds (then `session:welcome` follows) or why not. */
  'session:prove': (proof: Proof, ack: (reply: Ack<null>) => void) => void;
  /** The model a task names (`{ modelVersion }`), or the current one (no argument); MODEL_UNAVAILABLE when that version is no longer served. */
  'model:get': (request: ModelGet, ack: (reply: Ack<ModelSnapshot>) => void) => void;
  /** The catalogue (app item ids -> rows, popularity); `{ since }` asks only for items added after that version. */
  'catalogue:get': (request: CatalogueGet, ack: (reply: Ack<CatalogueSnapshot>) => void) => void;
  /** A paced fit (the task said uploadSlot): the ack grants a slot once one is free (arrival order), or says why not (upload-slot.ts). */
  'upload:slot': (request: UploadSlotRequest, ack: (reply: Ack<UploadSlotGrant>) => void) => void;
}
