// `npm run simulate`: a coordinator and one real SDK client per user over Socket.IO on loopback,
// federated NeuMF on the embedded synthetic data (or --data PATH), with baselines and a report.
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { trainCentralized } from '@fedrec/recsys/baselines/centralized.js';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { loadInteractionsFile, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { formatLoadSummary, type InteractionDataset } from '@fedrec/recsys/data/types.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { metricsChartSvg } from './socket/chart.js';
import { ratiosOf, type SimulationReport } from './socket/report.js';
import { formatFailureGroups } from './socket/failure-summary.js';
import { runSocketSimulation, type RoundRow } from './socket/run-simulation.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { COMPRESSIONS, type Compression } from '@fedrec/protocol';
import { STRATEGY_NAMES, parseStrategyOptions, strategyHelp, withShorthands } from '@fedrec/coordinator/strategy/registry.js';

const F = RECSYS_DEFAULTS.federated;
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
};

const json = (v: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`expected a JSON object, got "${v}"`);
  return parsed as Record<string, unknown>;
};

const program = new Command('simulate')
  .description('Federated recommendation over real Socket.IO on loopback: one SDK client per user.')
  .option('--data <path|synthetic>', 'interactions: a MovieLens u.data file, a CSV/TSV file, or synthetic', 'synthetic')
  .option('--clients <n>', 'simulated devices (users), default all', int)
  .option('--rounds <n>', 'federated rounds', int, F.rounds)
  // Parsed with the flags (commander names the flag), before any data loads.
  .option('--clients-per-round <n|all>', 'devices trained per round', (v: string) => (v === 'all' ? v : String(int(v))), 'all')
  .option('--local-epochs <n>', 'local epochs per round', int, F.localEpochs)
  .option('--batch-size <n>', 'client batch size', int, F.batchSize)
  .option('--lr <x>', 'client learning rate', num, F.clientLr)
  .option('--server-lr <x>', 'server learning rate (strategies with serverLearningRate)', num, F.serverLr)
  .addOption(new Option('--strategy <name>', "the coordinator's aggregation strategy (see Strategies below)").choices(STRATEGY_NAMES).default('fedavg'))
  .option('--strategy-options <json>', 'the strategy\'s options as JSON, e.g. {"eta":0.05}', json, {})
  .addOption(new Option('--model <name>', 'model').choices(['neumf', 'gmf', 'mf', 'mlp']).default(RECSYS_DEFAULTS.model))
  .option('--factors <n>', 'predictive factors', int, RECSYS_DEFAULTS.factors)
  .option('--evaluate-every <k>', 'federated evaluation every k rounds (the last is always evaluated)', int, 10)
  .option('--workers <n>', 'worker threads hosting the devices', int, Math.max(1, Math.min(2, availableParallelism())))
  .addOption(
    new Option('--engine <name>', "device engine: auto (the SDK's rule: tfjs on a GPU backend, else js), js or tfjs")
      .choices(['auto', 'js', 'tfjs'])
      .default('auto'),
  )
  .option('--seed <n>', 'seed for data, split, init and sampling', int, 42)
  .option('--synthetic-users <n>', 'users of the synthetic data', int)
  .option('--synthetic-items <n>', 'items of the synthetic data', int)
  .addOption(
    new Option('--compression <codec>', 'how models travel down and deltas up: none (float32), fp16, int8 (per-row scales, error feedback on uploads)')
      .choices(COMPRESSIONS)
      .default('none'),
  )
  .option('--compare-centralized', 'also train the same model centrally on the same split')
  .option('--centralized-epochs <n>', 'epochs of the centralized baseline', int, RECSYS_DEFAULTS.centralized.epochs)
  .option('--report <path>', 'write a JSON report here (and a chart beside it)')
  .option('--chart <path>', 'where the SVG chart goes (default: the report path with .svg)')
  .addHelpText('after', `\nStrategies (--strategy, options in --strategy-options):\n${strategyHelp()}`);

interface Flags {
  data: string;
  clients?: number;
  rounds: number;
  clientsPerRound: string;
  localEpochs: number;
  batchSize: number;
  lr: number;
  serverLr: number;
  strategy: string;
  strategyOptions: Record<string, unknown>;
  model: NcfKind;
  factors: number;
  evaluateEvery: number;
  workers: number;
  engine: 'auto' | 'js' | 'tfjs';
  seed: number;
  syntheticUsers?: number;
  syntheticItems?: number;
  compression: Compression;
  compareCentralized?: boolean;
  centralizedEpochs: number;
  report?: string;
  chart?: string;
}

function loadData(f: Flags): InteractionDataset {
  if (f.data === 'synthetic') {
    return generateSyntheticInteractions({
      seed: f.seed,
      ...(f.syntheticUsers ? { users: f.syntheticUsers } : {}),
      ...(f.syntheticItems ? { items: f.syntheticItems } : {}),
    });
  }
  return basename(f.data) === 'u.data' ? loadMovieLensFile(f.data) : loadInteractionsFile(f.data);
}

const pct = (x: number) => x.toFixed(4);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const kb = (bytes: number) => `${(bytes / 1e3).toFixed(1)} kB`;
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function roundLine(r: RoundRow): string {
  const quality = r.hr10 !== null ? `HR@10 ${pct(r.hr10)}  NDCG@10 ${pct(r.ndcg10!)}` : ''.padEnd(30);
  const loss = r.trainLoss !== null ? r.trainLoss.toFixed(4) : '-';
  const line = `round ${String(r.round).padStart(4)}  ${r.outcome === 'committed' ? 'ok ' : 'ABANDONED'} ${String(r.participants).padStart(5)} devices  ${String(r.failures).padStart(3)} failed  loss ${loss}  ${quality}  up ${mb(r.bytesUp)}  down ${mb(r.bytesDown)} (per device ${kb(r.bytesUpPerDevice)} up, ${kb(r.bytesDownPerDevice)} down)  ${secs(r.wallClockMs)}  lag ${r.maxWorkerLagMs}/${r.maxCoordinatorLagMs} ms`;
  // Why, not just how many: each failure code with its most common reason, and why a round was abandoned.
  const why = [
    ...(r.failures ? [`round ${r.round}: ${r.failures} failed: ${formatFailureGroups(r.failureGroups)}`] : []),
    ...(r.abandonReason ? [`round ${r.round}: abandoned: ${r.abandonReason}`] : []),
  ];
  return [line, ...why.map((w) => `    ${w}`)].join('\n');
}

async function main(): Promise<void> {
  const f = program.parse(process.argv).opts<Flags>();
  const data = loadData(f);
  console.log(`data: ${f.data}: ${formatLoadSummary(data.summary)}`);
  const split = leaveOneOut(data, { seed: f.seed, negatives: RECSYS_DEFAULTS.split.negatives });
  const users = f.clients ? split.users.slice(0, f.clients) : split.users;
  if (users.length === 0) throw new Error('no users with at least two interactions to simulate');
  const options = recsysModelOptions(split.numItems, f.factors === RECSYS_DEFAULTS.factors ? {} : { factors: f.factors });
  const arch = ncfArch(f.model, options);
  const clientsPerRound = f.clientsPerRound === 'all' ? 'all' : int(f.clientsPerRound);
  // Validated before any training, so a bad option fails in a second rather than after the baselines.
  const strategy = {
    name: f.strategy,
    options: parseStrategyOptions(f.strategy, withShorthands(f.strategy, { serverLearningRate: f.serverLr }, f.strategyOptions)),
  };

  const itemPop = evaluateItemPop(users, split.numItems);
  console.log(`ItemPop: HR@10 ${pct(itemPop.hr10)}  NDCG@10 ${pct(itemPop.ndcg10)}`);

  let centralized: SimulationReport['centralized'] = null;
  if (f.compareCentralized) {
    const c = RECSYS_DEFAULTS.centralized;
    const t0 = Date.now();
    const run = trainCentralized(arch, users, split.numUsers, { ...c, epochs: f.centralizedEpochs, seed: f.seed, evalEvery: f.centralizedEpochs });
    centralized = { hr10: run.final.hr10, ndcg10: run.final.ndcg10, wallClockMs: Date.now() - t0, epochs: f.centralizedEpochs };
    console.log(
      `centralized ${f.model}: HR@10 ${pct(centralized.hr10)}  NDCG@10 ${pct(centralized.ndcg10)}  (${f.centralizedEpochs} epochs, ${secs(centralized.wallClockMs)})`,
    );
  }

  console.log(
    `federated ${f.model}: ${users.length} devices over Socket.IO in ${f.workers} worker threads, ${f.rounds} rounds, ${clientsPerRound} per round, engine ${f.engine}, strategy ${strategy.name} ${JSON.stringify(strategy.options)}`,
  );
  const bar = process.stdout.isTTY
    ? new cliProgress.SingleBar(
        { format: 'round {round} [{bar}] {value}/{total} devices | {duration}s', clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let fitted = 0;
  const result = await runSocketSimulation({
    users,
    modelSpec: { name: f.model, options },
    rounds: f.rounds,
    clientsPerRound,
    trainingConfig: { localEpochs: f.localEpochs, batchSize: f.batchSize, learningRate: f.lr, optimizer: 'sgd', extra: { negatives: F.negatives } },
    serverLearningRate: f.serverLr,
    strategy,
    evaluateEvery: f.evaluateEvery,
    workers: f.workers,
    engine: f.engine,
    seed: f.seed,
    compression: f.compression,
    onReady: ({ clients, engine, backend }) => console.log(`${clients} devices connected: engine ${engine ?? '?'}, tfjs backend ${backend ?? 'none'}`),
    onRoundStarted: ({ roundId, selected }) => {
      fitted = 0;
      bar?.start(selected, 0, { round: roundId });
    },
    onDeviceMessage: (m) => {
      if (m.type === 'fit') bar?.update(++fitted);
    },
    onRound: (row) => {
      bar?.stop();
      console.log(roundLine(row));
    },
  });
  if (!result.final) throw new Error('the federated run ended without an evaluation');

  const bytesUp = result.rounds.reduce((n, r) => n + r.bytesUp, 0);
  const bytesDown = result.rounds.reduce((n, r) => n + r.bytesDown, 0);
  const federated = { hr10: result.final.hr10, ndcg10: result.final.ndcg10, wallClockMs: result.wallClockMs };
  const ratios = ratiosOf(federated, centralized);

  console.log('\n                 HR@10    NDCG@10   wall-clock');
  console.log(`ItemPop          ${pct(itemPop.hr10)}   ${pct(itemPop.ndcg10)}`);
  if (centralized) console.log(`centralized      ${pct(centralized.hr10)}   ${pct(centralized.ndcg10)}    ${secs(centralized.wallClockMs)}`);
  console.log(
    `federated        ${pct(federated.hr10)}   ${pct(federated.ndcg10)}    ${secs(federated.wallClockMs)}  (${mb(bytesUp)} up, ${mb(bytesDown)} down)`,
  );
  // The mean, not the median: an evaluated round downloads the next version early and the round after it none.
  const perDevice = { up: mean(result.rounds.map((r) => r.bytesUpPerDevice)), down: mean(result.rounds.map((r) => r.bytesDownPerDevice)) };
  console.log(
    `bytes down/up per device per round (mean over ${result.rounds.length} rounds, compression ${f.compression}): ${kb(perDevice.down)} down, ${kb(perDevice.up)} up`,
  );
  if (ratios) console.log(`federated / centralized: HR@10 ${ratios.hr10.toFixed(3)}x  NDCG@10 ${ratios.ndcg10.toFixed(3)}x`);

  if (f.report) {
    const report: SimulationReport = {
      generatedAt: new Date().toISOString(),
      command: process.argv.slice(2),
      data: { source: f.data, summary: data.summary, users: split.numUsers, items: split.numItems, clients: users.length },
      config: {
        model: f.model,
        modelOptions: options,
        rounds: f.rounds,
        clientsPerRound,
        localEpochs: f.localEpochs,
        batchSize: f.batchSize,
        learningRate: f.lr,
        serverLearningRate: f.serverLr,
        strategy: strategy.name,
        strategyOptions: strategy.options,
        negatives: F.negatives,
        evaluateEvery: f.evaluateEvery,
        engine: f.engine,
        workers: f.workers,
        compression: f.compression,
        seed: f.seed,
      },
      itemPop: { hr10: itemPop.hr10, ndcg10: itemPop.ndcg10 },
      centralized,
      federated: {
        ...federated,
        rounds: result.rounds,
        connectMs: result.connectMs,
        backend: result.backend ?? null,
        engine: result.engine ?? null,
        bytesUp,
        bytesDown,
        bytesUpPerDevicePerRound: perDevice.up,
        bytesDownPerDevicePerRound: perDevice.down,
      },
      ratios,
    };
    await writeFile(f.report, `${JSON.stringify(report, null, 2)}\n`);
    const chartPath = f.chart ?? f.report.replace(/(\.json)?$/, '.svg');
    await writeFile(chartPath, await metricsChartSvg(report));
    console.log(`report: ${f.report}  chart: ${chartPath}`);
  }
}

main().catch((err: unknown) => {
  console.error(`simulate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
