import { createRequire } from 'node:module';
import path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { importOptional, registerBackendCandidates, type BackendCandidate } from '../backend.js';

/** The directory inside node_modules that holds the wasm backend's .wasm files (no network needed). */
export function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** tfjs-node(-gpu) are optional dependencies: absent or broken installs just mean "not this one". */
function tensorflowCandidate(id: string, pkg: string): BackendCandidate {
  return {
    id,
    backend: 'tensorflow',
    async prepare(ctx) {
      if (tf.findBackendFactory('tensorflow')) return true;
      try {
        await importOptional(pkg);
      } catch (err) {
        ctx.logger.debug({ backend: id, err: (err as Error).message }, 'optional backend package not loadable');
        return false;
      }
      return Boolean(tf.findBackendFactory('tensorflow'));
    },
  };
}

/** Last resort; tfjs-cpu would print an advert for tfjs-node to the console on first use, which a library must not do. */
const nodeCpuCandidate: BackendCandidate = {
  id: 'cpu',
  backend: 'cpu',
  async prepare(ctx) {
    const backend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (backend && 'firstUse' in backend) backend.firstUse = false;
    ctx.logger.debug({ backend: 'cpu' }, 'using the plain JS cpu backend (slow)');
    return backend !== null;
  },
};

/** Node order: tfjs-node-gpu, tfjs-node, wasm (files from node_modules), cpu. */
export const nodeBackendCandidates: readonly BackendCandidate[] = [
  tensorflowCandidate('tfjs-node-gpu', '@tensorflow/tfjs-node-gpu'),
  tensorflowCandidate('tfjs-node', '@tensorflow/tfjs-node'),
  {
    id: 'wasm',
    backend: 'wasm',
    async prepare(ctx) {
      setWasmPaths(ctx.wasmPaths ?? wasmDirectory());
      return Boolean(tf.findBackendFactory('wasm'));
    },
  },
  nodeCpuCandidate,
];

registerBackendCandidates('node', nodeBackendCandidates);
