import type { ModelEntry } from '../model-entry.js';
import { seqArch, seqManifest } from './arch.js';
import { seqInitialWeights } from './init.js';

/**
 * `seq`: next-item prediction from the device's recent items (models/seq/arch.ts: FPMC's factorized
 * Markov chain over the last L items with learned position weights, and by default SASRec-style attention
 * pooling over them). Plain JS first (the default), tfjs.
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
  // Chosen on ML-100K over Socket.IO (README "The sequence model", "The table"): with the item table tied
  // (recsys/sequence-defaults.ts), a constant client lr 0.5 and 1 negative a positive, seq reached NeuMF +
  // FedYogi + PFedRec's HR@10 on all 943 devices in 20 rounds (and passed it with attention pooling); decaying
  // schedules (lr 1, exponential:0.9, the default before) stopped at 0.63-0.65, and 2, 4 or 8 negatives were
  // worse on validation than 1.
  trainingDefaults: { learningRate: 0.5, clientLrSchedule: 'constant', negatives: 1 },
};
