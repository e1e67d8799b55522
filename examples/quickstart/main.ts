// Bring your own data: a CSV of (user, item, time) from an app's logs -> a coordinator with the live
// dashboard, and one SDK device per user replaying that user's events over real Socket.IO.
//   npm run quickstart -- --make-sample events.csv     # a synthetic log to try it with
//   npm run quickstart -- --csv events.csv             # train; open the dashboard link it prints
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { createCoordinator, type RoundRecord } from '@fedrec/coordinator';
import { dashboardExtension } from '@fedrec/dashboard';
import { getModel } from '@fedrec/models/registry.js';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { loadInteractionsFile } from '@fedrec/recsys/data/files.js';
import { formatLoadSummary } from '@fedrec/recsys/data/types.js';
import { RECSYS_DEFAULTS, recsysModelSpec, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { exitWithError, UsageError } from '../exit-with-error.js';
import { replayUsersAsDevices } from './replay-devices.js';
import { writeSampleCsv } from './sample-csv.js';

// commander prints an InvalidArgumentError as "option '--rounds <n>' argument 'x' is invalid. <why>", without a stack.
const whole = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}.`);
  return n;
};

const cmd = new Command('quickstart')
  .description('Federated recommendation on your own event log: one device per user, a coordinator, the live dashboard.')
  .option('--csv <file>', 'event log: user,item[,rating][,time] per line (header and delimiter detected; item and user ids may be any strings)')
  .option('--make-sample <file>', 'write a synthetic log of this shape to <file> and exit')
  .option('--rounds <n>', 'federated rounds to run', whole(1), 60)
  .option('--port <n>', 'port of the coordinator and its dashboard (0 = any free port)', whole(0), 8080)
  .option('--evaluate-every <k>', 'federated evaluation every k rounds (the last round is always evaluated)', whole(1), 5)
  .option('--stay', 'keep the coordinator and dashboard up after the last round (Ctrl-C to stop)')
  .option('--verbose', 'print stack traces');
cmd.exitOverride((err) => process.exit(err.exitCode));
const opts = cmd.parse().opts<{ csv?: string; makeSample?: string; rounds: number; port: number; evaluateEvery: number; stay?: boolean; verbose?: boolean }>();
const verbose = opts.verbose === true;
const fail = (err: unknown): never => exitWithError('quickstart', err, `http://127.0.0.1:${opts.port}`, verbose);

if (opts.makeSample) {
  const rows = await writeSampleCsv(opts.makeSample).catch(fail);
  console.log(`wrote ${rows} events to ${opts.makeSample}; now: npm run quickstart -- --csv ${opts.makeSample}`);
  process.exit(0);
}
// Options are checked before any data is read.
if (!opts.csv) fail(new UsageError('--csv <file> is required (or --make-sample <file> to write a synthetic one first); see --help'));
if (!existsSync(opts.csv!)) fail(new UsageError(`--csv ${opts.csv}: no such file`));

const data = (() => {
  try {
    return loadInteractionsFile(opts.csv!);
  } catch (err) {
    return fail(new UsageError(`--csv ${opts.csv}: ${err instanceof Error ? err.message : String(err)}`));
  }
})();
console.log(`${opts.csv}: ${formatLoadSummary(data.summary)}`);
if (data.numUsers < 2 || data.numItems < 10) fail(new UsageError(`--csv ${opts.csv}: needs at least 2 users and 10 items to train on`));

// The popularity baseline on the same protocol (latest event held out, ranked among unseen items; fewer
// than 99 of those when the catalogue is small), for a figure to compare the federated HR@10 with.
const perUser = new Map<number, number>();
for (const u of data.users) perUser.set(u, (perUser.get(u) ?? 0) + 1);
const negatives = Math.min(RECSYS_DEFAULTS.split.negatives, data.numItems - Math.max(...perUser.values()));
const itemPop = negatives >= 1 ? evaluateItemPop(leaveOneOut(data, { ...RECSYS_DEFAULTS.split, negatives }).users, data.numItems) : undefined;

// The coordinator, as `npm start` builds it for the recommender, sized to this log's catalogue.
const modelSpec = recsysModelSpec(data.numItems);
const coordinator = createCoordinator({
  port: opts.port,
  host: '127.0.0.1',
  modelSpec,
  initialWeights: getModel(modelSpec.name).initialWeights(modelSpec.options, 42),
  trainingConfig: recsysTrainingConfig(),
  rounds: opts.rounds,
  minClients: data.numUsers,
  evaluateEvery: opts.evaluateEvery,
  roundTimeoutMs: 120_000,
  extensions: [dashboardExtension()],
});
const { url } = await coordinator.start().catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
    fail(new UsageError(`--port ${opts.port}: the port is in use; pick another (--port 0 picks a free one)`));
  return fail(err);
});
console.log(`dashboard: ${url}/   (model ${modelSpec.name}, ${data.numItems} items, ${RECSYS_DEFAULTS.federated.localEpochs} local epoch per round)`);

const bar = new cliProgress.SingleBar(
  { format: '{phase} [{bar}] {value}/{total} | HR@10 {hr} | loss {loss}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
  cliProgress.Presets.shades_classic,
);
bar.start(data.numUsers, 0, { phase: 'devices', hr: '–', loss: '–' });
const clients = await replayUsersAsDevices(data, url, (n) => bar.update(n)).catch(fail);

let hr = '–';
let lastHr: number | undefined;
bar.setTotal(opts.rounds);
bar.update(0, { phase: 'rounds ' });
coordinator.on('round:committed', (r: RoundRecord) => {
  const h = r.evaluation?.metrics['hr10'];
  if (h !== undefined) {
    lastHr = h;
    hr = h.toFixed(3);
  }
  bar.update(r.modelVersion, { hr, loss: r.fitMetrics['loss']?.toFixed(3) ?? '–' });
});
// A round waits at most its deadline (plus evaluation): the whole run is bounded by that.
await coordinator.waitForVersion(opts.rounds, opts.rounds * 300_000).catch(fail);
bar.stop();
console.log(
  `${opts.rounds} rounds with ${data.numUsers} devices: federated HR@10 ${lastHr?.toFixed(3) ?? '–'} (on the devices, latest event held out) against ItemPop ${itemPop?.hr10.toFixed(3) ?? '–'}`,
);

const stop = async () => {
  await Promise.all(clients.map((c) => c.close()));
  await coordinator.stop();
  process.exit(0);
};
if (opts.stay) {
  console.log(`still serving the model and the dashboard at ${url}/ (Ctrl-C to stop)`);
  process.on('SIGINT', () => void stop());
} else {
  await stop();
}
