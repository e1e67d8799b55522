import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import type { NcfNet } from '@fedrec/models/ncf/engine/net.js';
import type { EvalSummary } from '../evaluate.js';
import type { UserData } from '../split.js';
import { evaluateScores, trainCentralized, type CentralizedOptions, type CentralizedResult, type HeldOut } from './centralized.js';

/**
 * Averaging the scores of models trained from different seeds: a standard way to get a stronger
 * baseline (each seed's model errs differently on the sparse users, the mean of their logits ranks
 * better than any one of them). Each member chooses its own epoch on validation as trainCentralized
 * does; the ensemble's test item is read once, after every member is trained. This only makes the
 * baseline harder to match: the federated run is a single model.
 */
export interface EnsembleResult {
  /** Test metrics of the averaged scores. */
  final: EvalSummary;
  members: CentralizedResult[];
}

/** HR@k/NDCG@k of the mean logit of several nets on each user's held-out item and its negatives. */
export function evaluateMeanLogits(nets: NcfNet[], users: UserData[], k = 10, which: HeldOut = 'test'): EvalSummary {
  return evaluateScores((user, item) => nets.reduce((sum, net) => sum + net.forward(user, item), 0) / nets.length, users, k, which);
}

/**
 * `seeds` members with seeds o.seed, o.seed + 1, ...; `trained` holds members already trained with the
 * first of those seeds (the tuning bench passes the grid's winner instead of training it again).
 */
export function trainSeedEnsemble(
  a: NcfArch,
  users: UserData[],
  numUsers: number,
  o: CentralizedOptions,
  seeds: number,
  trained: CentralizedResult[] = [],
): EnsembleResult {
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`seeds must be a positive integer, got ${seeds}`);
  const members = [...trained];
  for (let k = members.length; k < seeds; k++) members.push(trainCentralized(a, users, numUsers, { ...o, seed: o.seed + k }));
  if (seeds === 1) return { final: members[0]!.final, members };
  return {
    final: evaluateMeanLogits(
      members.map((m) => m.net),
      users,
    ),
    members,
  };
}
