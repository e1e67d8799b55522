import { browserBackendCandidates, registerBackendCandidates, wasmCandidate, type BackendCandidate } from '../backend.js';
import { defaultWasmPaths } from './create-browser-client.js';

/** The wasm candidate, defaulting to the .wasm files served next to the bundle (never a CDN). */
const localWasmCandidate: BackendCandidate = {
  ...wasmCandidate,
  prepare(ctx) {
    const wasmPaths = ctx.wasmPaths ?? defaultWasmPaths();
    return wasmCandidate.prepare!({ ...ctx, ...(wasmPaths !== undefined ? { wasmPaths } : {}) });
  },
};

/** Browser order: WebGPU (when present), WebGL, wasm (local files), cpu. */
export const bundledBrowserCandidates: readonly BackendCandidate[] = browserBackendCandidates.map((c) => (c.id === 'wasm' ? localWasmCandidate : c));

registerBackendCandidates('browser', bundledBrowserCandidates);
