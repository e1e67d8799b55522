import { createRequire } from 'node:module';
import path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { cpuCandidate, importOptional, registerBackendCandidates, type BackendCandidate } from '../backend.js';

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
  cpuCandidate,
];

registerBackendCandidates('node', nodeBackendCandidates);
