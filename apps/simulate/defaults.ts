import type { Personalization } from '@fedrec/client-sdk/trainers/pfedrec.js';

/**
 * What `npm run simulate` runs without flags: the best configuration measured on full ML-100K that
 * finishes within 30 minutes on this project's 2-core machine (README "The table" and the headline run
 * under it, 30 November 2026): MF with 32 factors (PFedRec's width), FedYogi on the server, PFedRec's
 * dual personalization on the devices, 20 rounds. Measured with these settings (the headline run):
 * test HR@10 0.7243 / NDCG@10 0.4510 at round 19, all 943 devices evaluated, 1.043x the strong MF-64
 * baseline; 1038 s of training, 22.6 min for the whole command with --compare-centralized at load
 * average 8-30 (about five times an idle machine's round time), so within 30 minutes here. In the table
 * run NeuMF-8 + FedYogi reached 0.6013 after 24 rounds; the previous defaults (NeuMF-8 + FedAvg, 120
 * rounds) 0.6511 in an older run. The client side (lr 0.5, batch 4, 1 local epoch, 4 negatives) is
 * recsys/defaults.ts's. Confirmed by the one-run table of 1 December 2026, 02:54 UTC (README "The table"):
 * at these 20 rounds it is the best cell (0.7285, 313 s of training; next MF-32 + FedYogi 0.6660). Under
 * the strict protocol (--negative-exclusion validation) MF-32 + FedYogi without PFedRec is best (0.6363).
 * Again in the table run of 05:34 UTC: 0.7243, 256 s of training, 1.043x the strong baseline.
 */
export const SIMULATE_DEFAULTS = {
  model: 'mf' as const,
  /** For the default model; other models keep their own default width unless --factors says otherwise. */
  factors: 32,
  strategy: 'fedyogi',
  personalization: 'pfedrec' as Personalization,
  rounds: 20,
  /**
   * Strategy and personalization for any other model (--model neumf, seq, ...): the configurations those
   * models were measured with (README "The sequence model", "The table"), not the default model's, which
   * was tuned for MF-32 only (seq with FedAdam-style server steps at its lr 1 was worse in its tuning runs).
   * seq + PFedRec led on 300 users but not on all 943 (README "The sequence model"), so seq keeps 'none'.
   */
  otherModels: { strategy: 'fedavg', personalization: 'none' as Personalization },
};
