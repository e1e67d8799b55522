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
  // PFedRec (a per-device score head and item fine-tune) on top, FedAvg on the server: on the same 300 users and
  // 20 rounds (1 December 2026) validation HR@10 0.687 at round 19, against 0.610 without it, 0.483 with
  // FedYogi η 0.01, 0.517 FedYogi η 0.005 alone, 0.563 with a slower decay (0.95), and NeuMF's best there
  // (FedYogi 0.640, FedYogi + PFedRec 0.637).
  trainingDefaults: { learningRate: 1, clientLrSchedule: 'exponential:0.9', personalization: 'pfedrec' },
};
