import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { errorMessage } from './errors.js';
import { setSelectedBackend } from './selected-backend.js';
import { isSoftwareWebgl, webglRenderer } from './software-renderer.js';

export { currentBackendInfo } from './selected-backend.js';
import { silentLogger, type Logger } from './logger.js';

export type Platform = 'node' | 'browser';

export interface BackendContext {
  logger: Logger;
  /** Where the wasm backend finds its .wasm files (a URL prefix in browsers, a directory in Node). */
  wasmPaths?: string;
}

/** One way to get a tfjs backend: `prepare` loads whatever it needs and returns false when it cannot. */
export interface BackendCandidate {
  /** What the log calls it (e.g. "tfjs-node-gpu"). */
  id: string;
  /** The tfjs backend name it provides (e.g. "tensorflow"). */
  backend: string;
  prepare?(ctx: BackendContext): Promise<boolean>;
}

// One list per platform, best first; each platform registers its own list in one place.
const candidatesByPlatform = new Map<Platform, BackendCandidate[]>();

export function registerBackendCandidates(platform: Platform, candidates: readonly BackendCandidate[]): void {
  candidatesByPlatform.set(platform, [...candidates]);
}

export function backendCandidates(platform: Platform): BackendCandidate[] {
  return [...(candidatesByPlatform.get(platform) ?? [])];
}

/** Node when there is a Node process and no DOM window. */
export function detectPlatform(): Platform {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const hasWindow = typeof (globalThis as { window?: unknown }).window !== 'undefined';
  return !hasWindow && typeof proc?.versions?.node === 'string' ? 'node' : 'browser';
}

/** Imports an optional package by name; bundlers leave a computed specifier alone. */
export async function importOptional(specifier: string): Promise<unknown> {
  const name = specifier;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name);
}

function factoryRegistered(name: string): boolean {
  return tf.findBackendFactory(name) !== null && tf.findBackendFactory(name) !== undefined;
}

const wasmCandidate: BackendCandidate = {
  id: 'wasm',
  backend: 'wasm',
  async prepare(ctx) {
    if (ctx.wasmPaths !== undefined) setWasmPaths(ctx.wasmPaths);
    return factoryRegistered('wasm');
  },
};

const cpuCandidate: BackendCandidate = { id: 'cpu', backend: 'cpu' };

/** Browser order: WebGPU (when its optional package and navigator.gpu exist), WebGL, wasm, cpu. */
export const browserBackendCandidates: readonly BackendCandidate[] = [
  {
    id: 'webgpu',
    backend: 'webgpu',
    async prepare() {
      if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) return false;
      if (!factoryRegistered('webgpu')) await importOptional('@tensorflow/tfjs-backend-webgpu');
      return factoryRegistered('webgpu');
    },
  },
  { id: 'webgl', backend: 'webgl', prepare: async () => factoryRegistered('webgl') },
  wasmCandidate,
  cpuCandidate,
];

export { wasmCandidate, cpuCandidate };

registerBackendCandidates('browser', browserBackendCandidates);

export interface SelectBackendOptions {
  platform?: Platform;
  /** Use this tfjs backend (or candidate id) and fail if it does not initialise. */
  force?: string;
  logger?: Logger;
  wasmPaths?: string;
}

let selected: { backend: string; id: string } | undefined;
let inFlight: Promise<string> | undefined;

/** The backend chosen by selectBackend, or undefined before it ran. */
export function currentBackend(): string | undefined {
  return selected?.backend;
}

async function tryCandidate(c: BackendCandidate, ctx: BackendContext): Promise<boolean> {
  try {
    if (c.prepare && !(await c.prepare(ctx))) return false;
    if (!(await tf.setBackend(c.backend))) return false;
    await tf.ready();
    // A backend that registers but cannot compute is no backend: run one tiny op.
    const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
    const value = (await probe.data())[0];
    probe.dispose();
    return value === 3;
  } catch (err) {
    ctx.logger.debug({ backend: c.id, err: errorMessage(err) }, 'backend unavailable');
    return false;
  }
}

async function runSelection(options: SelectBackendOptions): Promise<string> {
  const logger = options.logger ?? silentLogger;
  const platform = options.platform ?? detectPlatform();
  const ctx: BackendContext = { logger, ...(options.wasmPaths !== undefined ? { wasmPaths: options.wasmPaths } : {}) };
  let candidates = backendCandidates(platform);
  if (candidates.length === 0) {
    logger.warn({ platform }, 'no backend candidates registered for this platform (in Node, import client-sdk/node): using cpu');
    candidates = [cpuCandidate];
  }
  if (options.force !== undefined) {
    const forced = candidates.find((c) => c.id === options.force) ??
      candidates.find((c) => c.backend === options.force) ?? { id: options.force, backend: options.force };
    if (!(await tryCandidate(forced, ctx))) throw new Error(`forced tfjs backend "${options.force}" could not be initialised`);
    selected = { backend: forced.backend, id: forced.id };
  } else {
    for (const c of candidates) {
      logger.debug({ backend: c.id }, 'trying tfjs backend');
      if (await tryCandidate(c, ctx)) {
        selected = { backend: c.backend, id: c.id };
        break;
      }
    }
    if (!selected) throw new Error(`no tfjs backend could be initialised (tried ${candidates.map((c) => c.id).join(', ')})`);
  }
  const software = isSoftwareWebgl(selected.backend);
  setSelectedBackend({ backend: selected.backend, candidate: selected.id, ...(software ? { software } : {}) });
  logger.info(
    { backend: selected.backend, candidate: selected.id, platform, ...(selected.backend === 'webgl' ? { renderer: webglRenderer(), software } : {}) },
    'tfjs backend selected',
  );
  return selected.backend;
}

/** Forgets the choice so the next selectBackend walks the candidate list again (tests, hot-plugged GPUs). */
export function resetBackendSelection(): void {
  selected = undefined;
  setSelectedBackend(undefined);
}

/**
 * Picks the best tfjs backend for this platform, once: later calls return the same choice
 * unless they force a different one. Concurrent calls share one selection.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<string> {
  if (inFlight) await inFlight.catch(() => undefined);
  if (selected && (options.force === undefined || options.force === selected.backend || options.force === selected.id)) {
    return selected.backend;
  }
  if (options.force !== undefined) {
    selected = undefined;
    setSelectedBackend(undefined);
  }
  inFlight = runSelection(options);
  try {
    return await inFlight;
  } finally {
    inFlight = undefined;
  }
}
