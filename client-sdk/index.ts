// The client SDK's public API, shared by Node and browsers (Node extras: client-sdk/node).
export {
  FederatedClient,
  createFederatedClient,
  CLIENT_ID_KEY,
  type FederatedClientOptions,
  type FederatedClientEvents,
  type ReconnectOptions,
  type ClientState,
  type ClientStatus,
  type WelcomeInfo,
  type TaskFailure,
  type FetchedModel,
  type SocketFactory,
  type ClientSocket,
} from './federated-client.js';
export { FederatedClientError, type ClientErrorCode } from './errors.js';
export { TypedEmitter, type EventMap } from './emitter.js';
export { silentLogger, type Logger, type LogFn } from './logger.js';
export { isRecommender, type Trainer, type TaskContext, type FitOutcome, type EvaluateOutcome, type Recommender, type Recommendation } from './trainer.js';
export { SecAggParticipant, type SecAggParticipantHost, type SecAggStageName } from './secagg-participant.js';
export {
  selectBackend,
  currentBackend,
  resetBackendSelection,
  detectPlatform,
  registerBackendCandidates,
  backendCandidates,
  browserBackendCandidates,
  type Platform,
  type BackendCandidate,
  type BackendContext,
  type SelectBackendOptions,
} from './backend.js';
export { behaviourEventSchema, behaviourInputSchema, BEHAVIOUR_KINDS, isPositive, type BehaviourEvent, type BehaviourInput } from './store/behaviour-event.js';
export { getFloat32, getString, type BehaviourStore, type StateValue, type ListOptions } from './store/behaviour-store.js';
export { MemoryStore, createMemoryStore } from './store/memory-store.js';
export {
  LayersTrainer,
  createLayersTrainer,
  privateTensorKey,
  type LayersTrainerOptions,
  type Dataset,
  type DatasetFn,
  type DatasetRequest,
} from './trainers/layers-trainer.js';
export {
  createLayersBuilderRegistry,
  defaultLayersBuilders,
  registerLayersBuilder,
  type LayersBuilderRegistry,
  type LayersModelBuilder,
  type BuiltLayersModel,
  type MappedTensor,
} from './trainers/builder-registry.js';
export { PrivateBias } from './trainers/private-bias-layer.js';
export { logisticLayersBuilder, logisticEventsDataset, itemBucket } from './trainers/builders/logistic.js';
import './trainers/builtin.js';
