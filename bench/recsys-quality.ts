// Quality bar: centralized vs federated NeuMF vs ItemPop on ML-100K (He et al. protocol), with wall-clock.
// Run: npx tsx bench/recsys-quality.ts            (ML-100K from ../shared/data, all defaults)
//      npx tsx bench/recsys-quality.ts --synthetic (the embedded generator instead)
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { trainCentralized } from '@fedrec/recsys/baselines/centralized.js';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { ML100K_PATH, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { formatLoadSummary } from '@fedrec/recsys/data/types.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { simulateFederated } from '@fedrec/simulate/in-process/run.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { STRATEGY_NAMES, parseStrategyOptions } from '@fedrec/coordinator/strategy/registry.js';

const d = RECSYS_DEFAULTS;
const opts = new Command()
  .option('--data <path>', 'MovieLens u.data', ML100K_PATH)
  .option('--synthetic', 'use the seeded synthetic generator')
  .option('--model <kind>', 'mf | gmf | mlp | neumf', d.model)
  .option('--factors <n>', 'GMF width', String(d.factors))
  .option('--rounds <n>', 'federated rounds', String(d.federated.rounds))
  .option('--local-epochs <n>', 'local epochs', String(d.federated.localEpochs))
  .option('--batch <n>', 'client batch size', String(d.federated.batchSize))
  .option('--client-lr <x>', 'client SGD learning rate', String(d.federated.clientLr))
  .option('--server-lr <x>', 'server learning rate (strategies with serverLearningRate)', String(d.federated.serverLr))
  .option('--strategy <name>', `aggregation strategy: ${STRATEGY_NAMES.join(', ')}`, 'fedavg')
  .option('--strategy-options <json>', 'the strategy\'s options as JSON, e.g. {"eta":0.05}', '{}')
  .option('--clients <n>', 'clients per round (default: all users)', '0')
  .option('--central-epochs <n>', 'centralized epochs', String(d.centralized.epochs))
  .option('--eval-every <n>', 'evaluate every n rounds/epochs', '10')
  .option('--workers <n>', 'worker threads for the simulation', String(d.simulationWorkers))
  .option('--skip-central', 'federated only')
  .parse()
  .opts<Record<string, string | boolean | undefined>>();

const n = (k: string) => Number(opts[k]);
const started = Date.now();
const data =
  opts['synthetic'] || !existsSync(String(opts['data']))
    ? generateSyntheticInteractions({ users: 943, items: 1682, interactionsPerUser: 100, seed: 7 })
    : loadMovieLensFile(String(opts['data']));
console.log(`data: ${opts['synthetic'] ? 'synthetic' : String(opts['data'])}: ${formatLoadSummary(data.summary)}`);
const split = leaveOneOut(data, d.split);
const a = ncfArch(opts['model'] as NcfKind, recsysModelOptions(split.numItems, { factors: n('factors') }));
console.log(`model ${a.kind}: GMF ${a.gmfDim}, MLP ${a.mlpDim}x2 -> ${a.hidden.join('-')}; ${split.users.length} users/clients, ${split.numItems} items`);

const pop = evaluateItemPop(split.users, split.numItems);
const line = (label: string, hr: number, ndcg: number, ms: number) =>
  console.log(`${label.padEnd(34)} HR@10 ${hr.toFixed(4)}  NDCG@10 ${ndcg.toFixed(4)}  ${(ms / 1000).toFixed(1).padStart(6)} s`);

let central: { hr10: number; ndcg10: number; ms: number } | undefined;
if (!opts['skipCentral']) {
  const t0 = Date.now();
  const c = trainCentralized(a, split.users, split.numUsers, { ...d.centralized, epochs: n('centralEpochs'), seed: 1, evalEvery: n('evalEvery') }, (r) => {
    if (r.eval)
      console.log(
        `  centralized epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)} HR@10 ${r.eval.hr10.toFixed(4)} NDCG@10 ${r.eval.ndcg10.toFixed(4)} (${(r.elapsedMs / 1000).toFixed(0)} s)`,
      );
  });
  central = { hr10: c.final.hr10, ndcg10: c.final.ndcg10, ms: Date.now() - t0 };
}

const t1 = Date.now();
const fo = {
  ...d.federated,
  rounds: n('rounds'),
  localEpochs: n('localEpochs'),
  batchSize: n('batch'),
  clientLr: n('clientLr'),
  serverLr: n('serverLr'),
  strategy: String(opts['strategy']),
  strategyOptions: parseStrategyOptions(String(opts['strategy']), JSON.parse(String(opts['strategyOptions']))),
  clientsPerRound: n('clients') || split.users.length,
  seed: 1,
  evalEvery: n('evalEvery'),
};
const fed = await simulateFederated(a, split.users, fo, {
  workers: n('workers'),
  onRound: (r) => {
    if (r.eval)
      console.log(
        `  federated round ${r.round}: loss ${r.trainLoss.toFixed(4)} HR@10 ${r.eval.hr10.toFixed(4)} NDCG@10 ${r.eval.ndcg10.toFixed(4)} (${(r.elapsedMs / 1000).toFixed(0)} s)`,
      );
  },
});
const fedMs = Date.now() - t1;

console.log('');
line('ItemPop', pop.hr10, pop.ndcg10, 0);
if (central) line(`centralized ${a.kind} (${n('centralEpochs')} epochs)`, central.hr10, central.ndcg10, central.ms);
line(`federated ${a.kind} ${fo.strategy} (${fo.rounds} rounds x ${fo.clientsPerRound})`, fed.final.hr10, fed.final.ndcg10, fedMs);
if (central) console.log(`federated / centralized HR@10: ${(fed.final.hr10 / central.hr10).toFixed(3)}`);
console.log(`total wall-clock: ${((Date.now() - started) / 1000).toFixed(1)} s`);
