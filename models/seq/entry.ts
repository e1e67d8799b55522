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
  // Chosen on validation HR@10, 300 ML-100K users, 20-30 rounds over Socket.IO (README "The sequence model"):
  // client lr 1 learns fastest but then swings (0.51 at round 10, 0.45 at 20); decaying it by 0.9 a round
  // keeps the start and keeps climbing (0.50 at 10, 0.54 at 20). lr 0.05-0.2 and 2-3 local epochs were worse.
  // PFedRec on top (1 December 2026) won on 300 users (validation HR@10 0.687 against 0.610 at round 19) but
  // not on all 943 in the table run (0.627 against 0.639 on validation), so it is not a default here.
  trainingDefaults: { learningRate: 1, clientLrSchedule: 'exponential:0.9' },
};
