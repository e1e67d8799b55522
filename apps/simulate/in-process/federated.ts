import { createStrategy, withShorthands } from '@fedrec/coordinator/strategy/registry.js';
import { roundConfig, type RoundConfigOptions } from '@fedrec/coordinator/strategy/round-config.js';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import type { Strategy } from '@fedrec/coordinator/strategy/strategy.js';
import { ncfManifest, type NcfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { splitShared, type Weights } from '@fedrec/protocol';
import { chooseEngine } from '@fedrec/models/engine-choice.js';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { negativeExclusions, userSeed, type NegativeExclusion, type UserData } from '@fedrec/recsys/split.js';
import { toSparseUpdate, type RoundSums } from './round-sums.js';
import { evaluateUsers, type EvalSummary } from '@fedrec/recsys/evaluate.js';
import { clipSparseUpdate, releaseDpSums } from '@fedrec/coordinator/privacy/dp-sums.js';

export interface FederatedOptions {
  rounds: number;
  /** Clients sampled per round (all users when >= their number). */
  clientsPerRound: number;
  localEpochs: number;
  batchSize: number;
  clientLr: number;
  /**
   * The client lr schedule and FedProx's μ, computed per round by the same function the coordinator
   * uses to build each round's fit config (coordinator/strategy/round-config.ts), so both simulation
   * paths train with the lr a real device would get. (Was clientLrDecay d: now clientLrSchedule 'exponential:d'.)
   */
  roundConfig?: RoundConfigOptions;
  /** The server learning rate of strategies that take one (serverLearningRate), unless strategyOptions set it. */
  serverLr: number;
  /** A registered strategy's name (coordinator/strategy/registry.ts); fedavg when absent. */
  strategy?: string;
  /** That strategy's options, validated against its schema. Plain data: the options travel to worker threads. */
  strategyOptions?: Record<string, unknown>;
  /** Training negatives per positive. */
  negatives: number;
  /** Held-out items kept out of those negatives (recsys/split.ts); default 'held-out'. */
  negativeExclusion?: NegativeExclusion;
  seed: number;
  /** Evaluate every this many rounds (and after the last). */
  evalEvery: number;
  /**
   * Client-level DP (coordinator/privacy/): each device's result clipped and weighed 1, and the round's sum
   * released with N(0, σ²C²) on every element over a fixed denominator. In process this is the central
   * placement; distributed noise shares sum to the same distribution when no device drops out.
   */
  dp?: { clipNorm: number; noiseMultiplier: number };
  /**
   * In-process evaluation (no worker pool) over at most this many of the users who trained at least once
   * (their private user rows exist): with a sampled population of 100k most users never train, and their
   * untrained private rows would measure nothing about the shared model.
   */
  evalParticipantsUpTo?: number;
}

export interface RoundReport {
  round: number;
  clients: number;
  trainLoss: number;
  elapsedMs: number;
  eval?: EvalSummary;
}

/** Trains one round's clients into sums; swapped for a worker pool when running on several cores. */
export type RoundRunner = (round: number, users: UserData[], shared: Map<string, Float32Array>) => Promise<RoundSums>;

/** One device, in process: its private rows live in `privateState`, only sums leave. */
export function localRound(a: NcfArch, o: FederatedOptions, privateState: Map<number, Map<string, Float32Array>>) {
  const manifest = ncfManifest(a);
  const privateOf = (user: number) => {
    let p = privateState.get(user);
    if (!p) {
      p = ncfInitialPrivate(a, userSeed(o.seed + 1, user));
      privateState.set(user, p);
    }
    return p;
  };
  // The SDK's rule in a worker thread without a tfjs backend (no GPU) picks the plain-JS engine: these loops are it.
  if (chooseEngine('auto', undefined) !== 'js') throw new Error('the in-process simulation runs the plain-JS engine only');
  const run: RoundRunner = async (round, users, shared) => {
    const acc = new UpdateAccumulator(manifest);
    let lossSum = 0;
    for (const u of users) {
      const plan = planLocalTraining(u.trainItems, u.numItems, {
        epochs: o.localEpochs,
        negatives: o.negatives,
        seed: userSeed(o.seed + 7919 * round, u.user),
        heldOut: negativeExclusions(u, o.negativeExclusion),
      });
      const config = roundConfig(
        { localEpochs: o.localEpochs, batchSize: o.batchSize, learningRate: o.clientLr, optimizer: 'sgd', extra: {} },
        round,
        o.roundConfig ?? {},
      );
      const r = fitLocalJs(a, shared, privateOf(u.user), plan, {
        learningRate: config.learningRate,
        batchSize: config.batchSize,
        ...(config.proximalMu ? { proximalMu: config.proximalMu } : {}),
      });
      privateState.set(u.user, r.privateAfter);
      if (o.dp) acc.addSparse(clipSparseUpdate(toSparseUpdate(r), o.dp.clipNorm).update);
      else acc.addSparse(toSparseUpdate(r));
      lossSum += r.loss;
    }
    return { sums: acc.sums, lossSum };
  };
  return { run, privateOf };
}

/** The coordinator's strategy for these options; --server-lr fills serverLearningRate where the strategy has one. */
export function federatedStrategy(o: FederatedOptions, random: () => number): Strategy {
  const name = o.strategy ?? 'fedavg';
  return createStrategy(name, withShorthands(name, { serverLearningRate: o.serverLr }, o.strategyOptions), { random });
}

/**
 * In-process federated training over one-user clients with the coordinator's own pieces: the
 * strategy samples the round's clients (configureFit) and turns the UpdateAccumulator's sums into
 * the next global model (aggregateFit), exactly as the round engine does.
 */
export async function runFederated(
  a: NcfArch,
  users: UserData[],
  o: FederatedOptions,
  hooks: { onRound?: (r: RoundReport) => void; runner?: RoundRunner; evaluate?: (shared: Map<string, Float32Array>) => Promise<EvalSummary> } = {},
): Promise<{ shared: Map<string, Float32Array>; history: RoundReport[]; final: EvalSummary }> {
  let global: Weights = ncfInitialWeights(a, o.seed);
  let shared = splitShared(global.manifest, global.body);
  const privateState = new Map<number, Map<string, Float32Array>>();
  const local = localRound(a, o, privateState);
  const run = hooks.runner ?? local.run;
  const evalUsers = () => (o.evalParticipantsUpTo === undefined ? users : users.filter((u) => privateState.has(u.user)).slice(0, o.evalParticipantsUpTo));
  const evaluate = hooks.evaluate ?? (async (w: Map<string, Float32Array>) => evaluateUsers(a, w, local.privateOf, evalUsers()));
  const rng = new SeededRandom(o.seed ^ 0x5bd1e995);
  const strategy = federatedStrategy(o, () => rng.next());
  const byId = new Map(users.map((u) => [String(u.user), u]));
  const clients = users.map((u) => ({ clientId: String(u.user), connectedAt: 0 }));
  const config = { localEpochs: o.localEpochs, batchSize: o.batchSize, learningRate: o.clientLr, optimizer: 'sgd' as const, extra: { negatives: o.negatives } };
  const history: RoundReport[] = [];
  const start = Date.now();
  let final: EvalSummary | undefined;
  for (let round = 1; round <= o.rounds; round++) {
    const sampleSize = Math.min(o.clientsPerRound, users.length);
    const instructions = await strategy.configureFit({ roundId: round, modelVersion: round - 1, global, clients, sampleSize, config });
    const chosen = instructions.map((i) => byId.get(i.clientId)!);
    const { sums, lossSum } = await run(round, chosen, shared);
    if (o.dp) releaseDpSums(sums, o.dp.noiseMultiplier * o.dp.clipNorm, chosen.length);
    // 0-based like the coordinator's round ids (server lr schedules count from 0).
    global = await strategy.aggregateFit(round - 1, global, sums, []);
    shared = splitShared(global.manifest, global.body);
    const report: RoundReport = {
      round,
      clients: sums.contributors,
      trainLoss: sums.contributors ? lossSum / sums.contributors : 0,
      elapsedMs: Date.now() - start,
    };
    if (round % o.evalEvery === 0 || round === o.rounds) {
      final = await evaluate(shared);
      report.eval = final;
    }
    history.push(report);
    hooks.onRound?.(report);
  }
  return { shared, history, final: final ?? (await evaluate(shared)) };
}
