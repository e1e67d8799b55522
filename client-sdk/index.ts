// The client SDK's public API, shared by Node and browsers (Node extras: client-sdk/node).
export {
  FederatedClient,
  createFederatedClient,
  CLIENT_ID_KEY,
  DEVICE_KEY_KEY,
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
export { checkTransport, isLoopbackHost } from './transport.js';
export { TypedEmitter, type EventMap } from './emitter.js';
export { silentLogger, type Logger, type LogFn } from './logger.js';
export { isRecommender, type Trainer, type TaskContext, type FitOutcome, type EvaluateOutcome, type Recommender, type Recommendation } from './trainer.js';
export { SecAggParticipant } from './secagg-participant.js';
export type { SecAggParticipantHost, SecAggStageName } from './secagg-participant-host.js';
export {
  selectBackend,
  currentBackend,
  currentBackendInfo,
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
export { logisticEventsDataset, itemBucket } from './trainers/logistic-events-dataset.js';
export { RecsysTrainer, memoryPrivateStore, type RecsysTrainerOptions, type PrivateStore } from './trainers/recsys-trainer.js';
export { LiveRecsysTrainer, type LiveRecsysTrainerOptions, type LikedItems } from './trainers/live-recsys-trainer.js';
export { ClientCatalogue, NUMERIC_CATALOGUE, CATALOGUE_KEY, isItemId, type ItemCatalogue, type CatalogueItemInfo } from './catalogue.js';
export { isCatalogueAware, type CatalogueAware } from './catalogue-fetch.js';
export { addCatalogueItems, type AddCatalogueItemsOptions } from './catalogue-admin.js';
