/**
 * The curious-coordinator attack: `npm run bench -- privacy [--modes off,secagg,secagg+] [--users 40] [--items 200]
 * [--interactions 20] [--rounds 3] [--clients-per-round all|N] [--seed 7] [--data ml-100k/u.data --max-users N]
 * [--tradeoff [--tradeoff-rounds 20] [--tradeoff-per-round 200] [--tradeoff-big-users 100000]]`.
 * `--data` takes the users of a MovieLens file (leave-one-out split, the first `--max-users` of them, the whole
 * catalogue) instead of the synthetic population. `--tradeoff` then prints the privacy/quality trade-off of DP
 * (bench/privacy-tradeoff.ts); it is off by default because it trains many models (minutes each).
 * Real SDK devices (NeuMF, plain-JS engine) train against a real coordinator over Socket.IO on loopback; the
 * coordinator records every reply it receives (bench/privacy/curious-coordinator.ts), opens plain updates with its own
 * key and keeps the model after each round, then scores every (user, item) pair (bench/privacy/run-attack.ts):
 * - single update: touched rows and gradient magnitudes of one device's first update (plain), or the masked vector (secagg);
 * - across rounds: rows touched in every round (the intersection attack), plus how item rows moved in the rounds the
 *   device was in against the rounds it was not (differencing of the sums; needs cohorts that differ).
 * Printed per mode: AUC of a user's items against untouched ones (0.5 = chance), the held-out item's AUC,
 * precision@10 (with its chance level), upload sizes and whether evaluation results arrive readable.
 * `npm start` runs secagg+ by default (apps/coordinator-cli): its row is the one the README's aim (AUC <= 0.6) is about.
 */
import { Command } from 'commander';
import { neumfModel } from '@fedrec/models/neumf.js';
import { sharedSize } from '@fedrec/protocol';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { contributionLayout } from '@fedrec/secagg';
import { loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { leaveOneOut, type UserData } from '@fedrec/recsys/split.js';
import { DEFAULT_TRADEOFF, runPrivacyTradeoff } from './privacy-tradeoff.js';
import { runPrivacyAttack, type AttackMode, type PrivacyAttackResult } from './privacy/run-attack.js';

const opts = new Command()
  .option('--modes <list>', 'off (plain sealed FedAvg), secagg, secagg+', 'off,secagg+')
  .option('--users <n>', 'synthetic users (one device each)', '40')
  .option('--items <n>', 'synthetic catalogue size', '200')
  .option('--interactions <n>', 'interactions per user', '20')
  .option('--rounds <n>', 'rounds', '3')
  .option('--clients-per-round <n>', "'all' (npm start's default) or a count", 'all')
  .option('--seed <n>', 'seed', '7')
  .option('--catalogues <list>', 'catalogue sizes for the bytes table', '400,1682,100000')
  .option('--data <path>', 'MovieLens u.data: attack its users instead of the synthetic population')
  .option('--max-users <n>', 'with --data: the first N users of the split (one device each)', '100')
  .option('--tradeoff', 'also print the DP privacy/quality trade-off (long: trains many models)', false)
  .option('--tradeoff-rounds <n>', 'trade-off: rounds on ML-100K', String(DEFAULT_TRADEOFF.rounds))
  .option('--tradeoff-per-round <n>', 'trade-off: clients per round on ML-100K', String(DEFAULT_TRADEOFF.perRound))
  .option('--tradeoff-big-users <n>', 'trade-off: users of the large synthetic population (0 = skip)', String(DEFAULT_TRADEOFF.bigUsers))
  .parse()
  .opts<{
    modes: string;
    users: string;
    items: string;
    interactions: string;
    rounds: string;
    clientsPerRound: string;
    seed: string;
    catalogues: string;
    data?: string;
    maxUsers: string;
    tradeoff: boolean;
    tradeoffRounds: string;
    tradeoffPerRound: string;
    tradeoffBigUsers: string;
  }>();

/** A flag that must be a whole number >= min: a typo fails here, by name, not as NaN rounds deep in a run. */
function count(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`E_BAD_FLAG: ${flag} must be an integer >= ${min}, got '${value}'`);
    process.exit(2);
  }
  return n;
}
const MODES: readonly AttackMode[] = ['off', 'secagg', 'secagg+'];

const f = (x: number) => x.toFixed(3);

function row(r: PrivacyAttackResult): Record<string, string | number> {
  return {
    'AUC single update': f(r.singleUpdate.auc),
    'AUC across rounds': f(r.acrossRounds.auc),
    'held-out AUC': f(r.acrossRounds.heldOutAuc),
    'P@10 across rounds': f(r.acrossRounds.precisionAt10),
    'P@10 chance': f(r.acrossRounds.chancePrecisionAt10),
    'upload sizes (distinct)': r.sizes.distinct,
    'upload bytes min..max': `${r.sizes.minBytes}..${r.sizes.maxBytes}`,
    'size~items (Spearman)': f(r.sizes.spearmanWithItems),
    // In clear on the wire / opened by the coordinator (sealed to its key in plain mode) / all evaluation replies.
    'eval replies: clear/coordinator reads/all': `${r.evaluationRepliesInClear}/${r.evaluationRepliesCoordinatorReads}/${r.evaluationReplies}`,
    'HR@10 recorded': r.lastEvaluation?.['hr10'] === undefined ? '-' : f(r.lastEvaluation['hr10']),
    rounds: r.roundsCommitted,
    wall: `${(r.wallClockMs / 1000).toFixed(1)} s`,
  };
}

async function main(): Promise<void> {
  const modes = opts.modes.split(',') as AttackMode[];
  const unknown = modes.filter((m) => !MODES.includes(m));
  if (unknown.length > 0) {
    console.error(`E_BAD_FLAG: --modes takes ${MODES.join(', ')}; got ${unknown.join(', ')}`);
    process.exit(2);
  }
  const rounds = count('--rounds', opts.rounds, 1);
  const seed = count('--seed', opts.seed, 0);
  const clientsPerRound = opts.clientsPerRound === 'all' ? 'all' : count('--clients-per-round', opts.clientsPerRound, 3);
  const synthetic = {
    users: count('--users', opts.users, 3),
    items: count('--items', opts.items, 2),
    interactionsPerUser: count('--interactions', opts.interactions, 2),
  };
  let users: UserData[] | undefined;
  if (opts.data !== undefined) {
    // The split of the whole file (every user's held-out item, the full catalogue), then its first N users: the
    // attack scores all catalogue items for them, as a coordinator with the whole catalogue would.
    users = leaveOneOut(loadMovieLensFile(opts.data), { seed }).users.slice(0, count('--max-users', opts.maxUsers, 3));
    const interactions = users.reduce((s, u) => s + u.trainItems.length, 0);
    console.log(
      `curious coordinator: ${users.length} devices (first users of ${opts.data}), ${users[0]!.numItems} items, ` +
        `${(interactions / users.length).toFixed(1)} training interactions each on average, ${rounds} rounds, clientsPerRound ${clientsPerRound}, NeuMF (js engine) over Socket.IO\n`,
    );
  } else {
    console.log(
      `curious coordinator: ${synthetic.users} devices, ${synthetic.items} items, ${synthetic.interactionsPerUser} interactions each, ` +
        `${rounds} rounds, clientsPerRound ${clientsPerRound}, NeuMF (js engine) over Socket.IO\n`,
    );
  }
  const rows: Record<string, Record<string, string | number>> = {};
  for (const mode of modes) {
    const r = await runPrivacyAttack({ mode, ...(users ? { users } : { synthetic }), rounds, clientsPerRound, seed });
    rows[mode === 'off' ? 'plain (off)' : mode] = row(r);
  }
  console.table(rows);
  // What hiding costs on the wire: under secure aggregation every device masks the whole shared model (dense, so
  // its size and its row set say nothing about its items) plus one weight per item row; plain mode sends touched rows.
  const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  console.log('\nUpload per device and round under the default (secagg+ masked vector) vs a dense float32 delta:');
  console.table(
    Object.fromEntries(
      opts.catalogues.split(',').map((n) => {
        const manifest = neumfModel.manifest(recsysModelOptions(Number(n)));
        const words = contributionLayout(manifest).vectorLength;
        return [`${n} items`, { 'masked vector (secagg+)': MiB(4 * words), 'dense float32 delta': MiB(4 * sharedSize(manifest)), words }];
      }),
    ),
  );
  // The attack above says what the coordinator learns without DP; the trade-off says what DP, which also covers
  // whoever sees the models, costs in quality. Behind a flag: it trains a model per (population, epsilon).
  if (opts.tradeoff) {
    console.log('\nPrivacy/quality trade-off of client-level DP (HR@10 / NDCG@10, bench/privacy-tradeoff.ts):');
    await runPrivacyTradeoff({
      rounds: count('--tradeoff-rounds', opts.tradeoffRounds, 1),
      perRound: count('--tradeoff-per-round', opts.tradeoffPerRound, 1),
      bigUsers: count('--tradeoff-big-users', opts.tradeoffBigUsers, 0),
      ...(opts.data !== undefined ? { dataPath: opts.data } : {}),
    });
  }
}

await main();
process.exit(0);
