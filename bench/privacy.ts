/**
 * The curious-coordinator attack: `npm run bench -- privacy [--modes off,secagg,secagg+] [--users 40] [--items 200]
 * [--interactions 20] [--rounds 3] [--clients-per-round all|N] [--seed 7]`.
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
  .parse()
  .opts<{ modes: string; users: string; items: string; interactions: string; rounds: string; clientsPerRound: string; seed: string; catalogues: string }>();

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
    'eval replies readable': `${r.evaluationRepliesInClear}/${r.evaluationReplies}`,
    'HR@10 recorded': r.lastEvaluation?.['hr10'] === undefined ? '-' : f(r.lastEvaluation['hr10']),
    rounds: r.roundsCommitted,
    wall: `${(r.wallClockMs / 1000).toFixed(1)} s`,
  };
}

async function main(): Promise<void> {
  const modes = opts.modes.split(',') as AttackMode[];
  const synthetic = { users: Number(opts.users), items: Number(opts.items), interactionsPerUser: Number(opts.interactions) };
  const clientsPerRound = opts.clientsPerRound === 'all' ? 'all' : Number(opts.clientsPerRound);
  console.log(
    `curious coordinator: ${synthetic.users} devices, ${synthetic.items} items, ${synthetic.interactionsPerUser} interactions each, ` +
      `${opts.rounds} rounds, clientsPerRound ${clientsPerRound}, NeuMF (js engine) over Socket.IO\n`,
  );
  const rows: Record<string, Record<string, string | number>> = {};
  for (const mode of modes) {
    const r = await runPrivacyAttack({ mode, synthetic, rounds: Number(opts.rounds), clientsPerRound, seed: Number(opts.seed) });
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
  // MERGE POINT (dp engineer): the privacy/quality trade-off prints here, e.g. `await runPrivacyTradeoff(...)`
  // from bench/privacy-tradeoff.ts, so `npm run bench -- privacy` shows the attack and the cost of DP together.
}

await main();
process.exit(0);
