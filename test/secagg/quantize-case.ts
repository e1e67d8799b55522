import { parseSecAggConfig, type SecAggConfig } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import type { ClientContribution } from '@fedrec/secagg';

/**
 * One contribution that Chromium (browser.test.ts bundles this file into its page) and Node build alike: a dense
 * tensor around a rowwise table, exact float32 values (no Math.sin, whose last bit may differ between engines),
 * fixed dither words, an L2 bound that scales the delta.
 */
export const quantizeManifest: WeightManifest = {
  tensors: [
    { name: 'a', shape: [1001], dtype: 'float32', shared: true },
    { name: 'items', shape: [40, 16], dtype: 'float32', shared: true, rowwise: true },
    { name: 'b', shape: [77], dtype: 'float32', shared: true },
  ],
};

export const quantizeConfig = (): SecAggConfig => parseSecAggConfig({ mode: 'secagg', clipRange: 0.15, maxWeight: 32, normBound: 3 });

export const quantizeInput = (length: number, rows: number): ClientContribution => ({
  numExamples: 17,
  delta: Float32Array.from({ length }, (_, i) => (((i * 7919) % 2001) - 1000) / 5000),
  rowWeights: Float32Array.from({ length: rows }, (_, r) => r % 5),
});

export const quantizeWords = (length: number): Uint32Array => Uint32Array.from({ length }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0);
