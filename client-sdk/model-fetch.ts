import { decodeWeights, modelSnapshotSchema, modelUpdatedSchema, type ModelSpec, type Weights } from '@fedrec/protocol';
import type { FederatedClientEvents } from './client-events.js';
import type { ClientSocket } from './connection.js';
import type { EventSink } from './emitter.js';
import { requestFromCoordinator } from './coordinator-request.js';
import { FederatedClientError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { Recommender } from './trainer.js';

export interface FetchedModel {
  modelVersion: number;
  modelSpec: ModelSpec;
  weights: Weights;
}

export interface ModelFetchOptions {
  /** The socket to ask on, or undefined while not connected. */
  socket(): ClientSocket | undefined;
  /** Ack timeout for model:get (default 30 000 ms). */
  requestTimeoutMs?: number;
  logger: Logger;
  events: EventSink<FederatedClientEvents>;
}

/**
 * The client's view of the global model: the newest version it has heard of (welcome,
 * model:updated, its own fetches) and the model:get request that brings the model itself.
 */
export class ModelFetch {
  private newest: number | undefined;

  constructor(private readonly options: ModelFetchOptions) {}

  /** The newest global model version this client has heard of. */
  get version(): number | undefined {
    return this.newest;
  }

  /** A welcome names the coordinator's current version. */
  welcomed(modelVersion: number): void {
    this.newest = modelVersion;
  }

  /** The model:updated listener: a new global model was committed. */
  updated(raw: unknown): void {
    const parsed = modelUpdatedSchema.safeParse(raw);
    if (!parsed.success) {
      this.options.logger.warn({ err: parsed.error.message }, 'ignored malformed model:updated');
      return;
    }
    this.newest = parsed.data.modelVersion;
    this.options.events.emit('model:updated', parsed.data);
  }

  /** Asks the coordinator for the current global model (outside any round). */
  async fetch(): Promise<FetchedModel> {
    const socket = this.options.socket();
    if (!socket) throw new FederatedClientError('NOT_CONNECTED', 'fetchModel() needs a connected client');
    const value = await requestFromCoordinator('model:get', () => socket.timeout(this.options.requestTimeoutMs ?? 30_000).emitWithAck('model:get'));
    const snapshot = modelSnapshotSchema.safeParse(value);
    if (!snapshot.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed model snapshot: ${snapshot.error.message}`);
    let weights: Weights;
    try {
      weights = decodeWeights(snapshot.data.weights);
    } catch (err) {
      throw new FederatedClientError('INVALID_PAYLOAD', `model snapshot weights: ${errorMessage(err)}`);
    }
    this.newest = Math.max(this.newest ?? 0, snapshot.data.modelVersion);
    return { modelVersion: snapshot.data.modelVersion, modelSpec: snapshot.data.modelSpec, weights };
  }

  /** Hands the recommender the newest global model when its copy is missing or older than one we heard of. */
  async refresh(recommender: Recommender): Promise<void> {
    const stale = recommender.modelVersion === undefined || (this.newest !== undefined && recommender.modelVersion < this.newest);
    if (!stale) return;
    const model = await this.fetch();
    recommender.setGlobal(model.modelSpec, model.weights, model.modelVersion);
  }
}
