/**
 * The one rule that picks a device's training and scoring engine, used by the SDK's trainers
 * (RecsysTrainer, LiveRecsysTrainer, so FederatedClient), `npm run simulate` (socket and
 * in-process paths) and the demo's simulated devices:
 *
 * - an explicit engine name ('js', 'tfjs', or any other registered engine) is used as asked;
 * - 'auto' (the default) takes tfjs when the active tfjs backend computes on a GPU (webgl, webgpu,
 *   tfjs-node-gpu; not WebGL rendered in software, such as headless Chromium's SwiftShader), else the plain-JS engine when the model has one (hand-written loops are 10-60x
 *   faster than tfjs on wasm or cpu for NCF-sized steps: bench/recsys-train.ts), else the model's first engine;
 * - for the 'real-time' workload (on-device personalization of one user's row after each action, and
 *   recommend()'s scoring), 'auto' takes the plain-JS engine whenever the model has one, GPU or not:
 *   one user's row in batches of four costs a GPU backend a dispatch per step (tfjs on WebGL took
 *   seconds per action where the JS engine takes milliseconds: `npm run bench -- device`).
 */
export type EngineRequest = 'auto' | (string & {});

export const AUTO_ENGINE = 'auto';

/** What the engine is for: a round's local training (the default), or real-time personalization and scoring. */
export type EngineWorkload = 'rounds' | 'real-time';

/** The active tfjs backend: its tfjs name ("webgl", "tensorflow", ...) and the SDK candidate that provided it ("tfjs-node-gpu"). */
export interface TfjsBackendInfo {
  backend: string;
  candidate?: string;
  /** A GPU backend rendered in software (WebGL on SwiftShader or llvmpipe): a CPU, for the rule. */
  software?: boolean;
}

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);
const GPU_CANDIDATES = new Set(['tfjs-node-gpu']);

/** Whether this tfjs backend runs on a GPU (tfjs-node's "tensorflow" only when it is the CUDA build). */
export function isGpuBackend(info: TfjsBackendInfo | undefined): boolean {
  if (!info || info.software) return false;
  return GPU_BACKENDS.has(info.backend) || (info.candidate !== undefined && GPU_CANDIDATES.has(info.candidate));
}

/**
 * The engine to run. `engines` are the model's registered engine names, first the default
 * (omit them before the model is known: the built-in models have both 'js' and 'tfjs').
 */
export function chooseEngine(
  request: EngineRequest | undefined,
  backend: TfjsBackendInfo | undefined,
  engines: readonly string[] = ['js', 'tfjs'],
  workload: EngineWorkload = 'rounds',
): string {
  if (request !== undefined && request !== AUTO_ENGINE) return request;
  if (workload === 'rounds' && engines.includes('tfjs') && isGpuBackend(backend)) return 'tfjs';
  if (engines.includes('js')) return 'js';
  const first = engines[0];
  if (first === undefined) throw new Error('the model has no engine to choose from');
  return first;
}
