import type { ModelSpec, WeightManifest, Weights } from '@fedrec/protocol';
import { SeededRandom } from './random.js';
import type { ModelDefinition, ModelEntry } from './model-entry.js';
import { LOGISTIC_MODEL_NAME, LOGISTIC_TENSORS, logisticOptions } from './logistic-spec.js';

function logisticManifest(options: ModelSpec['options']): WeightManifest {
  const { features } = logisticOptions(options);
  return {
    tensors: [
      { name: LOGISTIC_TENSORS.kernel, shape: [features, 1], dtype: 'float32', shared: true },
      { name: LOGISTIC_TENSORS.bias, shape: [1], dtype: 'float32', shared: true },
      { name: LOGISTIC_TENSORS.userBias, shape: [1], dtype: 'float32', shared: false },
    ],
  };
}

/** Small seeded normal kernel, zero bias; the body holds the shared tensors only. */
function logisticInitialWeights(options: ModelSpec['options'], seed: number): Weights {
  const manifest = logisticManifest(options);
  const { features } = logisticOptions(options);
  const rng = new SeededRandom(seed);
  const body = new Float32Array(features + 1);
  for (let i = 0; i < features; i++) body[i] = 0.01 * rng.normal();
  return { manifest, body };
}

export const logisticModel: ModelDefinition = {
  name: LOGISTIC_MODEL_NAME,
  manifest: logisticManifest,
  initialWeights: logisticInitialWeights,
};

/** The logistic model with its one engine, a tfjs LayersModel (loaded on first use). */
export const logistic: ModelEntry = {
  definition: logisticModel,
  engines: {
    tfjs: { kind: 'layers', load: async () => (await import('./logistic-layers.js')).logisticLayersEngine },
  },
};
