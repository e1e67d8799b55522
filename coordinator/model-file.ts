import { ProtocolError, encodeWeights, type Compression, type ModelSnapshot, type WireWeights } from '@fedrec/protocol';
import { encodeFramed } from './framed-file.js';
import type { CoordinatorState } from './state.js';

type ServedState = Pick<CoordinatorState, 'modelVersion' | 'modelSpec' | 'global'>;

/** The current model as the framed file `/api/model` serves, encoded once per model version. */
export class ModelFileCache {
  private cached: { modelVersion: number; framed: Uint8Array } | undefined;

  get(state: ServedState): { modelVersion: number; bytes: Uint8Array } {
    const v = state.modelVersion;
    if (this.cached?.modelVersion !== v) {
      const header = { format: 'fedrec-weights', formatVersion: 1, modelVersion: v, modelSpec: state.modelSpec, manifest: state.global.manifest };
      this.cached = { modelVersion: v, framed: encodeFramed(header, state.global.body) };
    }
    return { modelVersion: v, bytes: this.cached.framed };
  }
}

/**
 * What `model:get` serves: the current model in the run's compression, encoded once per version
 * (every device of a round asks for the same bytes). A request may name the version its task names;
 * any other version than the current one is refused with MODEL_UNAVAILABLE (tasks only ever name the
 * current one; a device that was offline asks without a version and gets the newest, once).
 */
export class ModelServing {
  private cached: { modelVersion: number; weights: WireWeights } | undefined;

  constructor(private readonly compression: Compression) {}

  /** `asked`: the version the (validated) request names, if any. */
  snapshot(state: ServedState, asked: number | undefined): ModelSnapshot {
    const v = state.modelVersion;
    if (asked !== undefined && asked !== v) {
      throw new ProtocolError('MODEL_UNAVAILABLE', `model version ${asked} is not served; the current version is ${v}`);
    }
    if (this.cached?.modelVersion !== v) this.cached = { modelVersion: v, weights: encodeWeights(state.global, this.compression) };
    return { modelVersion: v, modelSpec: state.modelSpec, weights: this.cached.weights };
  }
}
