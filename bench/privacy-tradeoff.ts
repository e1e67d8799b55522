// The privacy/quality trade-off of client-level DP (DP-FedAvg): HR@10 / NDCG@10 with no DP and at target
// epsilons (δ = 1e-5), on ML-100K's 943 users (synthetic data when the file is absent) and on a synthetic
// population of 100k users, where user-level DP is realistic. Runs the in-process simulation
// (apps/simulate/in-process: the coordinator's own strategy and accumulator, each update clipped and weighed 1,
// the round's sum released with N(0, σ²C²) on every element over the selected count; see coordinator/privacy/).
// σ for each target comes from the RDP accountant for the run's rounds and sampling rate.
// Run: npm run bench -- privacy-tradeoff [--rounds 30] [--per-round 200] [--big-users 100000] [--big-per-round 1000]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { ML100K_PATH, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import type { InteractionDataset } from '@fedrec/recsys/data/types.js';
import { runFederated } from '@fedrec/simulate/in-process/federated.js';
import { epsilonFor, noiseMultiplierFor } from '@fedrec/coordinator/privacy/rdp-accountant.js';

export interface PrivacyTradeoffOptions {
  /** Target epsilons besides "no DP". */
  epsilons: number[];
  delta: number;
  /** Run the ML-100K (or synthetic fallback) population. */
  small: boolean;
  /** The ML-100K (or synthetic fallback) population. */
  rounds: number;
  perRound: number;
  /** The large synthetic population (0 = skip). */
  bigUsers: number;
  bigRounds: number;
  bigPerRound: number;
  /** Users of the large population evaluated (among those who trained). */
  bigEvalUsers: number;
  clipNorm: number;
  /**
   * Server learning rate of the DP runs. Clipping (every update scaled to ≤ C) and the fixed denominator
   * (an item row touched by a few of the round's clients is still divided by all of them) shrink the
   * average step several times over; DP-FedAvg compensates on the server (McMahan et al. 2018 tune the
   * server step the same way). The noise scales with it too, so the signal-to-noise ratio is unchanged.
   */
  dpServerLr: number;
  /** Skip the no-DP run (the baseline) when false. */
  baseline: boolean;
  /** Skip the clipping-only run when false. */
  clipOnly: boolean;
  seed: number;
  /** u.data path; synthetic when missing. */
  dataPath: string;
  log: (line: string) => void;
}

export interface TradeoffRow {
  population: string;
  users: number;
  rounds: number;
  perRound: number;
  sampleRate: number;
  /** null = no DP; Infinity = DP's clipping, weights and fixed denominator without noise (what clipping alone costs). */
  targetEpsilon: number | null;
  noiseMultiplier: number | null;
  /** Epsilon the accountant gives for the run (≤ the target). */
  epsilon: number | null;
  hr10: number;
  ndcg10: number;
  wallClockMs: number;
}

export const DEFAULT_TRADEOFF: PrivacyTradeoffOptions = {
  epsilons: [8, 4, 1],
  delta: 1e-5,
  small: true,
  rounds: 20,
  perRound: 200,
  bigUsers: 100_000,
  bigRounds: 20,
  bigPerRound: 1000,
  bigEvalUsers: 2000,
  clipNorm: 0.5,
  dpServerLr: 8,
  baseline: true,
  clipOnly: true,
  seed: 42,
  dataPath: ML100K_PATH,
  log: (line) => console.log(line),
};

/** Runs every (population, epsilon) pair and returns the table rows (also logged line by line). */
export async function runPrivacyTradeoff(input: Partial<PrivacyTradeoffOptions> = {}): Promise<TradeoffRow[]> {
  const o = { ...DEFAULT_TRADEOFF, ...input };
  const rows: TradeoffRow[] = [];
  const small: InteractionDataset = existsSync(o.dataPath) ? loadMovieLensFile(o.dataPath) : generateSyntheticInteractions({ seed: o.seed });
  const smallName = existsSync(o.dataPath) ? 'ML-100K' : 'synthetic (no ML-100K file)';
  const populations: Array<{ name: string; data: () => InteractionDataset; rounds: number; perRound: number; evalUpTo?: number }> = o.small
    ? [{ name: smallName, data: () => small, rounds: o.rounds, perRound: o.perRound }]
    : [];
  if (o.bigUsers > 0) {
    populations.push({
      name: `synthetic ${o.bigUsers.toLocaleString('en-US')} users`,
      data: () => generateSyntheticInteractions({ seed: o.seed, users: o.bigUsers }),
      rounds: o.bigRounds,
      perRound: o.bigPerRound,
      evalUpTo: o.bigEvalUsers,
    });
  }
  const f = RECSYS_DEFAULTS.federated;
  for (const p of populations) {
    const split = leaveOneOut(p.data(), { seed: o.seed, negatives: RECSYS_DEFAULTS.split.negatives });
    const users = split.users;
    const perRound = Math.min(p.perRound, users.length);
    const q = perRound / users.length;
    const arch = ncfArch(RECSYS_DEFAULTS.model, recsysModelOptions(split.numItems));
    o.log(
      `${p.name}: ${users.length} users, ${split.numItems} items; ${p.rounds} rounds of ${perRound} (q = ${q.toFixed(4)}), clip ${o.clipNorm}, DP server lr ${o.dpServerLr}`,
    );
    for (const target of [...(o.baseline ? [null] : []), ...(o.clipOnly ? [Infinity] : []), ...o.epsilons]) {
      const sigma = target === null ? null : target === Infinity ? 0 : noiseMultiplierFor(target, q, p.rounds, o.delta);
      const t0 = Date.now();
      const run = await runFederated(arch, users, {
        rounds: p.rounds,
        clientsPerRound: perRound,
        localEpochs: f.localEpochs,
        batchSize: f.batchSize,
        clientLr: f.clientLr,
        serverLr: sigma === null ? f.serverLr : o.dpServerLr,
        negatives: f.negatives,
        seed: o.seed,
        evalEvery: p.rounds,
        ...(sigma === null ? {} : { dp: { clipNorm: o.clipNorm, noiseMultiplier: sigma } }),
        ...(p.evalUpTo === undefined ? {} : { evalParticipantsUpTo: p.evalUpTo }),
      });
      const row: TradeoffRow = {
        population: p.name,
        users: users.length,
        rounds: p.rounds,
        perRound,
        sampleRate: q,
        targetEpsilon: target,
        noiseMultiplier: sigma,
        epsilon: sigma === null ? null : sigma === 0 ? Infinity : epsilonFor(q, sigma, p.rounds, o.delta),
        hr10: run.final.hr10,
        ndcg10: run.final.ndcg10,
        wallClockMs: Date.now() - t0,
      };
      rows.push(row);
      o.log(
        `  ${target === null ? 'no DP        ' : target === Infinity ? 'clip only    ' : `ε ≤ ${String(target).padEnd(3)} σ ${sigma!.toFixed(2).padStart(5)}`}  ` +
          `HR@10 ${row.hr10.toFixed(4)}  NDCG@10 ${row.ndcg10.toFixed(4)}  ` +
          `${row.epsilon === null || row.epsilon === Infinity ? '' : `(ε ${row.epsilon.toFixed(2)} at δ ${o.delta}) `}${(row.wallClockMs / 1000).toFixed(1)} s`,
      );
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const num = (v: string) => Number(v);
  const f = new Command()
    .option('--rounds <n>', 'rounds on ML-100K', num, DEFAULT_TRADEOFF.rounds)
    .option('--per-round <n>', 'clients per round on ML-100K', num, DEFAULT_TRADEOFF.perRound)
    .option('--big-users <n>', 'users of the large synthetic population (0 = skip)', num, DEFAULT_TRADEOFF.bigUsers)
    .option('--big-rounds <n>', 'rounds on the large population', num, DEFAULT_TRADEOFF.bigRounds)
    .option('--big-per-round <n>', 'clients per round on the large population', num, DEFAULT_TRADEOFF.bigPerRound)
    .option('--big-eval-users <n>', 'trained users evaluated on the large population', num, DEFAULT_TRADEOFF.bigEvalUsers)
    .option('--clip <x>', 'L2 clip norm of each update', num, DEFAULT_TRADEOFF.clipNorm)
    .option('--dp-server-lr <x>', 'server learning rate of the DP runs', num, DEFAULT_TRADEOFF.dpServerLr)
    .option('--no-baseline', 'skip the run without DP')
    .option('--no-small', 'skip the ML-100K population')
    .option('--no-clip-only', 'skip the run with clipping and no noise')
    .option('--epsilons <list>', 'target epsilons', (v: string) => v.split(',').map(Number), DEFAULT_TRADEOFF.epsilons)
    .option('--data <path>', 'MovieLens u.data', DEFAULT_TRADEOFF.dataPath)
    .parse()
    .opts<{
      rounds: number;
      perRound: number;
      bigUsers: number;
      bigRounds: number;
      bigPerRound: number;
      bigEvalUsers: number;
      clip: number;
      dpServerLr: number;
      baseline: boolean;
      small: boolean;
      clipOnly: boolean;
      epsilons: number[];
      data: string;
    }>();
  await runPrivacyTradeoff({
    rounds: f.rounds,
    perRound: f.perRound,
    bigUsers: f.bigUsers,
    bigRounds: f.bigRounds,
    bigPerRound: f.bigPerRound,
    bigEvalUsers: f.bigEvalUsers,
    clipNorm: f.clip,
    dpServerLr: f.dpServerLr,
    baseline: f.baseline,
    small: f.small,
    clipOnly: f.clipOnly,
    epsilons: f.epsilons,
    dataPath: f.data,
  });
}
