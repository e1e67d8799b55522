import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { splitShared } from '@fedrec/protocol';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { userSeed, type UserData } from '@fedrec/recsys/split.js';
import { addResult, applySums, emptySums, type FedSums } from './aggregate.js';
import { evaluateUsers, type EvalSummary } from '@fedrec/recsys/evaluate.js';

export interface FederatedOptions {
  rounds: number;
  /** Clients sampled per round (all users when >= their number). */
  clientsPerRound: number;
  localEpochs: number;
  batchSize: number;
  clientLr: number;
  /** Client lr multiplier per round (lr_r = clientLr · decay^(r-1)); 1 keeps it constant. */
  clientLrDecay?: number;
  serverLr: number;
  /** Training negatives per positive. */
  negatives: number;
  seed: number;
  /** Evaluate every this many rounds (and after the last). */
  evalEvery: number;
}

export interface RoundReport {
  round: number;
  clients: number;
  trainLoss: number;
  elapsedMs: number;
  eval?: EvalSummary;
}

/** Trains one round's clients into FedSums; swapped for a worker pool when running on several cores. */
export type RoundRunner = (round: number, users: UserData[], shared: Map<string, Float32Array>) => Promise<FedSums>;

/** One device, in process: its private rows live in `privateState`, only sums leave. */
export function localRound(a: NcfArch, o: FederatedOptions, privateState: Map<number, Map<string, Float32Array>>) {
  const privateOf = (user: number) => {
    let p = privateState.get(user);
    if (!p) {
      p = ncfInitialPrivate(a, userSeed(o.seed + 1, user));
      privateState.set(user, p);
    }
    return p;
  };
  const run: RoundRunner = async (round, users, shared) => {
    const sums = emptySums(a);
    for (const u of users) {
      const plan = planLocalTraining(u.trainItems, u.numItems, { epochs: o.localEpochs, negatives: o.negatives, seed: userSeed(o.seed + 7919 * round, u.user) });
      const r = fitLocalJs(a, shared, privateOf(u.user), plan, { learningRate: o.clientLr * (o.clientLrDecay ?? 1) ** (round - 1), batchSize: o.batchSize });
      privateState.set(u.user, r.privateAfter);
      addResult(a, sums, r);
    }
    return sums;
  };
  return { run, privateOf };
}

/**
 * In-process FedAvg over one-user clients, applying exactly the aggregation contract
 * (dense tensors weighted by examples, item rows by the examples that touched them).
 */
export async function runFederated(
  a: NcfArch,
  users: UserData[],
  o: FederatedOptions,
  hooks: { onRound?: (r: RoundReport) => void; runner?: RoundRunner; evaluate?: (shared: Map<string, Float32Array>) => Promise<EvalSummary> } = {},
): Promise<{ shared: Map<string, Float32Array>; history: RoundReport[]; final: EvalSummary }> {
  const init = ncfInitialWeights(a, o.seed);
  const shared = new Map([...splitShared(init.manifest, init.body)].map(([n, t]) => [n, t.slice()]));
  const privateState = new Map<number, Map<string, Float32Array>>();
  const local = localRound(a, o, privateState);
  const run = hooks.runner ?? local.run;
  const evaluate = hooks.evaluate ?? (async (w: Map<string, Float32Array>) => evaluateUsers(a, w, local.privateOf, users));
  const rng = new SeededRandom(o.seed ^ 0x5bd1e995);
  const history: RoundReport[] = [];
  const start = Date.now();
  let final: EvalSummary | undefined;
  for (let round = 1; round <= o.rounds; round++) {
    const chosen = o.clientsPerRound >= users.length ? users : rng.shuffle(users.slice()).slice(0, o.clientsPerRound);
    const sums = await run(round, chosen, shared);
    applySums(a, shared, sums, o.serverLr);
    const report: RoundReport = { round, clients: sums.clients, trainLoss: sums.clients ? sums.lossSum / sums.clients : 0, elapsedMs: Date.now() - start };
    if (round % o.evalEvery === 0 || round === o.rounds) {
      final = await evaluate(shared);
      report.eval = final;
    }
    history.push(report);
    hooks.onRound?.(report);
  }
  return { shared, history, final: final ?? (await evaluate(shared)) };
}
