import { encodeFramed } from './framed-file.js';
import type { CoordinatorState } from './state.js';

/** The current model as the framed file `/api/model` serves, encoded once per model version. */
export class ModelFileCache {
  private cached: { modelVersion: number; framed: Uint8Array } | undefined;

  get(state: Pick<CoordinatorState, 'modelVersion' | 'modelSpec' | 'global'>): { modelVersion: number; bytes: Uint8Array } {
    const v = state.modelVersion;
    if (this.cached?.modelVersion !== v) {
      const header = { format: 'fedrec-weights', formatVersion: 1, modelVersion: v, modelSpec: state.modelSpec, manifest: state.global.manifest };
      this.cached = { modelVersion: v, framed: encodeFramed(header, state.global.body) };
    }
    return { modelVersion: v, bytes: this.cached.framed };
  }
}
