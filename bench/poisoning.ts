// Poisoning: 10% of clients attack federated NeuMF on ML-100K; FedAvg against each defence.
// Run: npm run bench -- poisoning                (ML-100K from ../shared/data; synthetic when absent)
//      npm run bench -- poisoning --synthetic    (the embedded generator)
//
// Every update goes the coordinator's own way: RoundInput (strategy/round-input.ts: the update policy's
// norm bound and weight cap, then the streaming sums or the buffer of a buffering strategy) and
// aggregateRound (strategy/aggregate-round.ts: aggregateUpdates or aggregateFit), exactly what the plain
// collector and round engine run; strategies come from the registry. Local training is the plain-JS NCF
// engine (as the in-process simulation); a client whose training yields non-finite values counts as
// TRAINING_FAILED, as the SDK would answer.
//
// Protocol: a clean FedAvg warm-up of --warmup rounds (the deployed model), then --rounds rounds per
// (attack, defence) from that same model and the same private user state; HR@10 / NDCG@10 on the He et
// al. protocol at the end. The targeted attack picks an unpopular item and reports its HR among users
// (share with it in their top 10 over all items they have not trained on) and its mean rank.
// The defaults run in about 10 minutes on this project's shared 2-core machine.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { aggregateRound } from '@fedrec/coordinator/strategy/aggregate-round.js';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { RoundInput } from '@fedrec/coordinator/strategy/round-input.js';
import { UpdatePolicy, updatePolicySchema, type UpdatePolicyInput } from '@fedrec/coordinator/strategy/update-policy.js';
import { ncfArch, ncfManifest, T } from '@fedrec/models/ncf/arch.js';
import { flattenLocalResult } from '@fedrec/models/ncf/engine/flat.js';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { scoreItemsJs } from '@fedrec/models/ncf/engine/score.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { allFinite, rowLayout, splitShared, type Weights } from '@fedrec/protocol';
import { ML100K_PATH, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { evaluateUsers } from '@fedrec/recsys/evaluate.js';
import { leaveOneOut, userSeed, type UserData } from '@fedrec/recsys/split.js';

const d = RECSYS_DEFAULTS;
const opts = new Command()
  .option('--data <path>', 'MovieLens u.data', ML100K_PATH)
  .option('--synthetic', 'use the seeded synthetic generator')
  .option('--warmup <n>', 'clean FedAvg rounds before the attack (the deployed model)', '20')
  .option('--rounds <n>', 'rounds under attack, per (attack, defence)', '6')
  .option('--clients <n>', 'clients per round', '150')
  .option('--malicious <x>', 'share of clients that attack', '0.1')
  .option('--attacks <list>', 'comma-separated: scale, signflip, targeted', 'scale,signflip,targeted')
  .option(
    '--defences <list>',
    'comma-separated: fedavg, default, weight-cap, median, trimmed-mean, krum, row-bound',
    'fedavg,default,weight-cap,median,trimmed-mean,krum',
  )
  .option('--boost <x>', 'targeted attack: the target row is moved to boost × the centroid of the popular rows', '8')
  .option('--seed <n>', 'seed', '1')
  .parse()
  .opts<Record<string, string | boolean | undefined>>();
const num = (k: string) => Number(opts[k]);

type Attack = 'none' | 'scale' | 'signflip' | 'targeted';
interface Defence {
  strategy: string;
  policy: UpdatePolicyInput;
}
const OFF: UpdatePolicyInput = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' };
const DEFENCES: Record<string, Defence> = {
  fedavg: { strategy: 'fedavg', policy: OFF },
  // What a coordinator runs with no flags: FedAvg behind the default adaptive norm bound and weight cap.
  default: { strategy: 'fedavg', policy: {} },
  'weight-cap': { strategy: 'fedavg', policy: { normBound: 'off', rowNormBound: 'off' } },
  // The robust strategies behind the default policy, as they run in the service.
  median: { strategy: 'median', policy: {} },
  'trimmed-mean': { strategy: 'trimmed-mean', policy: {} },
  krum: { strategy: 'krum', policy: {} },
  // Not a default: the per-row bound (see update-policy.ts), at a high quantile of recent row norms.
  'row-bound': { strategy: 'fedavg', policy: { rowNormBound: { mode: 'adaptive', quantile: 0.99, multiplier: 2 } } },
};

const started = Date.now();
const data =
  opts['synthetic'] || !existsSync(String(opts['data']))
    ? generateSyntheticInteractions({ users: 943, items: 1682, interactionsPerUser: 100, seed: 7 })
    : loadMovieLensFile(String(opts['data']));
const split = leaveOneOut(data, d.split);
const users = split.users;
const a = ncfArch(d.model, recsysModelOptions(split.numItems));
const manifest = ncfManifest(a);
const layout = rowLayout(manifest);
const seed = num('seed');

// Attackers: a seeded 10% of the users (real accounts with their own data, as in PipAttack/FedRecAttack).
const rng = new SeededRandom(seed * 7 + 3);
const order = users.map((u) => u.user);
rng.shuffle(order);
const malicious = new Set(order.slice(0, Math.round(num('malicious') * users.length)));

// The target: an item few users have (popularity rank at the 90th percentile, at least 2 users).
const popularity = new Float64Array(split.numItems);
for (const u of users) for (const i of u.trainItems) popularity[i]! += 1;
const byPopularity = Array.from(popularity.keys()).sort((x, y) => popularity[y]! - popularity[x]!);
const target = byPopularity.filter((i) => popularity[i]! >= 2)[Math.floor(0.9 * byPopularity.filter((i) => popularity[i]! >= 2).length)]!;
const popular = byPopularity.slice(0, 50);

console.log(
  `data: ${opts['synthetic'] || !existsSync(String(opts['data'])) ? 'synthetic' : String(opts['data'])}; ${users.length} users, ${split.numItems} items; ` +
    `NeuMF f=${a.gmfDim}; ${malicious.size} malicious clients (${(100 * num('malicious')).toFixed(0)}%); ${num('clients')} clients/round; ` +
    `warm-up ${num('warmup')} clean rounds, then ${num('rounds')} rounds per run; target item ${target} (${popularity[target]} users)`,
);

interface World {
  global: Weights;
  privates: Map<number, Map<string, Float32Array>>;
}

function privateOf(w: World, user: number): Map<string, Float32Array> {
  let p = w.privates.get(user);
  if (!p) {
    p = ncfInitialPrivate(a, userSeed(seed + 1, user));
    w.privates.set(user, p);
  }
  return p;
}

function clone(w: World): World {
  return {
    global: { manifest: w.global.manifest, body: w.global.body.slice() },
    privates: new Map([...w.privates].map(([u, p]) => [u, new Map([...p].map(([k, v]) => [k, v.slice()]))])),
  };
}

/**
 * PipAttack's popularity push: the target row is moved onto boost × the centroid of the 50 most popular
 * items' rows, in both item tables (a fixed point: repeated rounds hold it there rather than oscillate).
 */
function pushTarget(delta: Float32Array, rowWeights: Float32Array, numExamples: number, global: Weights): void {
  for (const t of layout.tables) {
    if (t.name !== T.itemGmf && t.name !== T.itemMlp) continue;
    for (let c = 0; c < t.cols; c++) {
      let centroid = 0;
      for (const i of popular) centroid += global.body[t.offset + i * t.cols + c]!;
      centroid /= popular.length;
      const k = t.offset + target * t.cols + c;
      delta[k] = num('boost') * centroid - global.body[k]!;
    }
    rowWeights[t.rowWeightOffset + target] = numExamples;
  }
}

interface RunStats {
  failed: number;
  clipped: number;
  weightCapped: number;
  rowsClipped: number;
}

/** One round: sampled clients train locally, attackers tamper, every update goes through RoundInput, the strategy aggregates. */
async function round(
  w: World,
  r: number,
  attack: Attack,
  defence: Defence,
  strategy: ReturnType<typeof createStrategy>,
  policy: UpdatePolicy,
  stats: RunStats,
): Promise<void> {
  const clients = users.map((u) => ({ clientId: String(u.user), connectedAt: 0 }));
  const byId = new Map(users.map((u) => [String(u.user), u]));
  const config = {
    localEpochs: d.federated.localEpochs,
    batchSize: d.federated.batchSize,
    learningRate: d.federated.clientLr,
    optimizer: 'sgd' as const,
    extra: {},
  };
  const chosen = await strategy.configureFit({
    roundId: r,
    modelVersion: r - 1,
    global: w.global,
    clients,
    sampleSize: Math.min(num('clients'), users.length),
    config,
  });
  const input = new RoundInput(manifest, policy, defence.strategy !== 'fedavg');
  const shared = splitShared(manifest, w.global.body);
  for (const { clientId } of chosen) {
    const u: UserData = byId.get(clientId)!;
    const plan = planLocalTraining(u.trainItems, u.numItems, {
      epochs: d.federated.localEpochs,
      negatives: d.federated.negatives,
      seed: userSeed(seed + 7919 * r, u.user),
    });
    const res = fitLocalJs(a, shared, privateOf(w, u.user), plan, { learningRate: d.federated.clientLr, batchSize: d.federated.batchSize });
    const { delta, rowWeights } = flattenLocalResult(manifest, res);
    if (!allFinite(delta) || !Number.isFinite(res.loss)) {
      stats.failed += 1; // the SDK answers TRAINING_FAILED for this
      continue;
    }
    w.privates.set(u.user, res.privateAfter);
    if (attack !== 'none' && malicious.has(u.user)) {
      if (attack === 'scale') {
        const s = u.user % 2 ? 100 : -100;
        for (let k = 0; k < delta.length; k++) delta[k]! *= s;
      } else if (attack === 'signflip') {
        for (let k = 0; k < delta.length; k++) delta[k] = -delta[k]!;
      } else pushTarget(delta, rowWeights, res.numExamples, w.global);
    }
    input.add(clientId, { numExamples: res.numExamples, delta, rowWeights });
  }
  const out = input.finish();
  stats.clipped += out.clipped;
  stats.weightCapped += out.weightCapped;
  stats.rowsClipped += out.rowsClipped;
  if (out.sums.contributors === 0) return; // every client failed: the round is abandoned
  const next = await aggregateRound(strategy, r, w.global, out, []);
  if (allFinite(next.body)) w.global = next;
}

async function train(w: World, rounds: number, first: number, attack: Attack, defence: Defence): Promise<RunStats> {
  const srng = new SeededRandom(seed ^ 0x5bd1e995);
  const strategy = createStrategy(defence.strategy, {}, { random: () => srng.next() });
  const policy = new UpdatePolicy(updatePolicySchema.parse(defence.policy));
  const stats: RunStats = { failed: 0, clipped: 0, weightCapped: 0, rowsClipped: 0 };
  for (let r = first; r < first + rounds; r++) await round(w, r, attack, defence, strategy, policy, stats);
  return stats;
}

/** The target's HR@10 among users (over all items each has not trained on) and its mean rank. */
function targetStats(w: World): { hr: number; rank: number } {
  const shared = splitShared(manifest, w.global.body);
  const all = Int32Array.from({ length: split.numItems }, (_, i) => i);
  let hits = 0;
  let rankSum = 0;
  let n = 0;
  for (const u of users) {
    if (u.trainItems.includes(target)) continue;
    const scores = scoreItemsJs(a, shared, privateOf(w, u.user), all);
    const seen = new Set(u.trainItems);
    const s = scores[target]!;
    let rank = 1;
    for (let i = 0; i < scores.length; i++) if (i !== target && !seen.has(i) && scores[i]! > s) rank++;
    if (!Number.isFinite(s)) rank = scores.length;
    hits += rank <= 10 ? 1 : 0;
    rankSum += rank;
    n++;
  }
  return { hr: hits / n, rank: rankSum / n };
}

// Warm-up: the deployed model, trained clean with FedAvg through the same path.
const base: World = { global: ncfInitialWeights(a, seed), privates: new Map() };
await train(base, num('warmup'), 1, 'none', DEFENCES['fedavg']!);
const baseEval = evaluateUsers(a, splitShared(manifest, base.global.body), (u) => privateOf(base, u), users);
console.log(`warm-up done: HR@10 ${baseEval.hr10.toFixed(4)} NDCG@10 ${baseEval.ndcg10.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

const attacks = String(opts['attacks']).split(',') as Attack[];
const defences = String(opts['defences']).split(',');
const first = num('warmup') + 1;
const results: Array<{ attack: Attack; defence: string; hr: number; ndcg: number; target?: { hr: number; rank: number }; stats: RunStats; s: number }> = [];

async function run(attack: Attack, defence: string): Promise<void> {
  const t0 = Date.now();
  const w = clone(base);
  const stats = await train(w, num('rounds'), first, attack, DEFENCES[defence]!);
  const ev = evaluateUsers(a, splitShared(manifest, w.global.body), (u) => privateOf(w, u), users);
  const tgt = attack === 'targeted' || attack === 'none' ? targetStats(w) : undefined;
  const row = { attack, defence, hr: ev.hr10, ndcg: ev.ndcg10, ...(tgt ? { target: tgt } : {}), stats, s: (Date.now() - t0) / 1000 };
  results.push(row);
  const clean = results.find((x) => x.attack === 'none' && x.defence === 'fedavg');
  const dHr = clean ? ` (${(100 * (ev.hr10 - clean.hr)).toFixed(1).padStart(5)} pts vs clean)` : '';
  console.log(
    `${attack.padEnd(9)} ${defence.padEnd(13)} HR@10 ${ev.hr10.toFixed(4)}${dHr}  NDCG@10 ${ev.ndcg10.toFixed(4)}` +
      (tgt ? `  target HR ${(100 * tgt.hr).toFixed(1)}% mean rank ${tgt.rank.toFixed(0)}` : '') +
      `  failed ${stats.failed} clipped ${stats.clipped} rows ${stats.rowsClipped} capped ${stats.weightCapped}  ${row.s.toFixed(0)} s`,
  );
}

await run('none', 'fedavg');
for (const defence of defences) if (defence !== 'fedavg') await run('none', defence);
for (const attack of attacks) for (const defence of defences) await run(attack, defence);
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
