import type { ModelEntry } from '../model-entry.js';
import { seqArch, seqManifest } from './arch.js';
import { seqInitialWeights } from './init.js';

/**
 * `seq`: next-item prediction from the device's recent items (models/seq/arch.ts: FPMC's factorized
 * Markov chain over the last L items with learned position weights). Plain JS first (the default), tfjs.
 */
export const seq: ModelEntry = {
  definition: {
    name: 'seq',
    manifest: (options) => seqManifest(seqArch(options)),
    initialWeights: (options, seed) => seqInitialWeights(seqArch(options), seed),
  },
  engines: {
    js: { kind: 'recommender', load: async () => (await import('./engine/recommender.js')).seqJsEngine() },
    tfjs: { kind: 'recommender', load: async () => (await import('./tfjs/recommender.js')).seqTfjsEngine() },
  },
};
