import {
  decodeWeights,
  manifestSchema,
  modelSpecSchema,
  modelSnapshotSchema,
  modelUpdatedSchema,
  modelVersionSchema,
  type ModelGet,
  type ModelSpec,
  type Weights,
  type WireWeights,
} from '@fedrec/protocol';
import type { FederatedClientEvents } from './client-events.js';
import type { ClientSocket } from './connection.js';
import type { EventSink } from './emitter.js';
import { requestFromCoordinator } from './coordinator-request.js';
import { decodedModels } from './decoded-models.js';
import { FederatedClientError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { BehaviourStore, StateValue } from './store/behaviour-store.js';
import type { Recommender } from './trainer.js';

export interface FetchedModel {
  modelVersion: number;
  modelSpec: ModelSpec;
  weights: Weights;
}

/** Where the device keeps its copy of the global model across restarts (when `persist` is on). */
export const MODEL_CACHE_KEY = 'fedrec:model';

export interface ModelFetchOptions {
  /** The socket to ask on, or undefined while not connected. */
  socket(): ClientSocket | undefined;
  /** Ack timeout for model:get (default 30 000 ms). */
  requestTimeoutMs?: number;
  logger: Logger;
  events: EventSink<FederatedClientEvents>;
  /** The device's store: the model copy is kept there too (MODEL_CACHE_KEY), so a restart does not download it again. */
  store?: BehaviourStore;
  /** Keep the copy in the store as well as in memory (default true). */
  persist?: boolean;
}

/** The one copy a device holds: the version, and the weights as they came over the wire (compressed bodies stay compressed). */
interface HeldModel {
  modelVersion: number;
  modelSpec: ModelSpec;
  wire: WireWeights;
}

/**
 * The client's view of the global model, addressed by version: the newest version it has heard of
 * (welcome, model:updated, its own fetches) and the one copy it holds. A task names the version it
 * runs on; when the device holds that version (from the last fit, evaluation or recommend(), in
 * memory or in its store) nothing is downloaded, otherwise model:get brings it once (concurrent
 * asks for the same version share one request). A device back from offline asks for the newest once.
 */
export class ModelFetch {
  private newest: number | undefined;
  private held: HeldModel | undefined;
  private storeChecked = false;
  private inFlight = new Map<number | 'newest', Promise<HeldModel>>();
  private downloadCount = 0;

  constructor(private readonly options: ModelFetchOptions) {}

  /** The newest global model version this client has heard of. */
  get version(): number | undefined {
    return this.newest;
  }

  /** The version of the copy this device holds, if any. */
  get heldVersion(): number | undefined {
    return this.held?.modelVersion;
  }

  /** How many models this client has downloaded (model:get answers) since it was created. */
  get downloads(): number {
    return this.downloadCount;
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
    this.newest = Math.max(this.newest ?? 0, parsed.data.modelVersion);
    this.options.events.emit('model:updated', parsed.data);
  }

  /**
   * The weights of exactly `modelVersion` as wire weights (what a task that names it runs on): the held
   * copy, or one download. `waitMs`: how long the download may take (a task's time left; default the
   * request timeout): when a whole fleet asks for a new version at once, answers queue at the coordinator.
   */
  async wireFor(modelVersion: number, waitMs?: number): Promise<WireWeights> {
    const version = modelVersionSchema.parse(modelVersion);
    const held = await this.heldCopy();
    if (held?.modelVersion === version) return held.wire;
    return (await this.download(version, waitMs)).wire;
  }

  /** The newest global model this client knows of: the held copy when it is that version, else one download. */
  async fetch(): Promise<FetchedModel> {
    const held = await this.heldCopy();
    const model = held && (this.newest === undefined || held.modelVersion >= this.newest) ? held : await this.download(undefined);
    return { modelVersion: model.modelVersion, modelSpec: model.modelSpec, weights: decodedModels.decode(model.wire) };
  }

  /** Hands the recommender the newest global model when its copy is missing or older than one we heard of. */
  async refresh(recommender: Recommender): Promise<void> {
    const stale = recommender.modelVersion === undefined || (this.newest !== undefined && recommender.modelVersion < this.newest);
    if (!stale) return;
    const model = await this.fetch();
    recommender.setGlobal(model.modelSpec, model.weights, model.modelVersion);
  }

  /** The held copy; on first use, the one the store kept from an earlier session. */
  private async heldCopy(): Promise<HeldModel | undefined> {
    if (this.held || this.storeChecked || !this.persisting()) return this.held;
    this.storeChecked = true;
    try {
      const stored = fromStateValue(await this.options.store!.get(MODEL_CACHE_KEY));
      if (stored && !this.held) this.held = stored;
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'could not read the stored model copy');
    }
    return this.held;
  }

  private persisting(): boolean {
    return this.options.store !== undefined && this.options.persist !== false;
  }

  /** One model:get per version at a time; the answer becomes the held copy (newest wins). */
  private download(version: number | undefined, waitMs?: number): Promise<HeldModel> {
    const key = version ?? 'newest';
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const request = this.request(version, waitMs).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  private async request(version: number | undefined, waitMs?: number): Promise<HeldModel> {
    const socket = this.options.socket();
    if (!socket) throw new FederatedClientError('NOT_CONNECTED', 'fetching the model needs a connected client');
    const ask: ModelGet = version === undefined ? {} : { modelVersion: version };
    const value = await requestFromCoordinator('model:get', () =>
      socket.timeout(Math.max(waitMs ?? 0, this.options.requestTimeoutMs ?? 30_000)).emitWithAck('model:get', ask),
    );
    const snapshot = modelSnapshotSchema.safeParse(value);
    if (!snapshot.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed model snapshot: ${snapshot.error.message}`);
    const got = snapshot.data;
    if (version !== undefined && got.modelVersion !== version) {
      throw new FederatedClientError('INVALID_PAYLOAD', `asked for model version ${version}, the coordinator answered ${got.modelVersion}`);
    }
    let wire: WireWeights;
    try {
      // Validated and decoded once here, so a held copy always decodes; the same bytes another client of
      // this realm already holds are shared with it (decoded-models.ts).
      wire = decodedModels.intern(got.weights).wire;
    } catch (err) {
      throw new FederatedClientError('INVALID_PAYLOAD', `model snapshot weights: ${errorMessage(err)}`);
    }
    this.downloadCount++;
    const model: HeldModel = { modelVersion: got.modelVersion, modelSpec: got.modelSpec, wire };
    this.newest = Math.max(this.newest ?? 0, got.modelVersion);
    if (!this.held || model.modelVersion >= this.held.modelVersion) {
      this.held = model;
      if (this.persisting()) {
        this.options.store!.set(MODEL_CACHE_KEY, toStateValue(model)).catch((err: unknown) => {
          this.options.logger.warn({ err: errorMessage(err) }, 'could not store the model copy');
        });
      }
    }
    return model;
  }
}

/** The stored form: the decoded float32 body (the store keeps Float32Array), with version, spec and manifest. */
function toStateValue(m: HeldModel): StateValue {
  const w = decodedModels.decode(m.wire);
  return { modelVersion: m.modelVersion, modelSpec: JSON.stringify(m.modelSpec), manifest: JSON.stringify(w.manifest), body: w.body };
}

/** A stored copy, validated like anything read back (a store may be stale or tampered with); undefined when unusable. */
function fromStateValue(v: StateValue | undefined): HeldModel | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Float32Array) return undefined;
  const version = modelVersionSchema.safeParse(v['modelVersion']);
  const body = v['body'];
  if (!version.success || !(body instanceof Float32Array) || typeof v['modelSpec'] !== 'string' || typeof v['manifest'] !== 'string') return undefined;
  try {
    const modelSpec = modelSpecSchema.parse(JSON.parse(v['modelSpec']));
    const manifest = manifestSchema.parse(JSON.parse(v['manifest']));
    const wire: WireWeights = { manifest, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    decodeWeights(wire);
    return { modelVersion: version.data, modelSpec, wire };
  } catch {
    return undefined;
  }
}
