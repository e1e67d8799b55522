// `npm run simulate`: a coordinator and one real SDK client per user over Socket.IO on loopback,
// federated NeuMF on the embedded synthetic data (or --data PATH), with baselines and a report.
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { trainCentralized, type CentralizedOptions } from '@fedrec/recsys/baselines/centralized.js';
import { SEQ_CENTRALIZED, trainSeqCentralized } from '@fedrec/recsys/baselines/seq-centralized.js';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { loadInteractionsFile, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { formatLoadSummary, type InteractionDataset } from '@fedrec/recsys/data/types.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { metricsChartSvg } from './socket/chart.js';
import { ratiosOf, type SimulationReport } from './socket/report.js';
import { formatFailureGroups } from './socket/failure-summary.js';
import { runSocketSimulation, type RoundRow } from './socket/run-simulation.js';
import { simulationRoundTimeoutMs } from './socket/round-deadline.js';
import { HOLDOUT_MODES, NEGATIVE_EXCLUSIONS, leaveOneOut, type HoldoutMode, type NegativeExclusion } from '@fedrec/recsys/split.js';
import { describeHoldout } from '@fedrec/recsys/holdout.js';
import { STRONG_BASELINE } from '@fedrec/recsys/baselines/strong-baseline.js';
import { trainSeedEnsemble } from '@fedrec/recsys/baselines/seed-ensemble.js';
import { LR_SCHEDULE_HELP, parseLrSchedule } from '@fedrec/coordinator/strategy/lr-schedule.js';
import { chooseRoundOnValidation } from './socket/best-round.js';
import { coverageOf } from './socket/coverage.js';
import { withSequences } from '@fedrec/recsys/data/sequences.js';
import { generateSequentialPattern } from '@fedrec/recsys/data/sequential-pattern.js';
import { SEQ_DEFAULTS, seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { withModelTrainingDefaults } from './model-training-defaults.js';
import { PERSONALIZATIONS, PFEDREC_FINE_TUNES, type PfedrecFineTune, type Personalization } from '@fedrec/client-sdk/trainers/pfedrec.js';
import { COMPRESSIONS, type Compression } from '@fedrec/protocol';
import { STRATEGY_NAMES, parseStrategyOptions, strategyHelp, withShorthands } from '@fedrec/coordinator/strategy/registry.js';
import { PRIVACY_PRESETS, PRIVACY_PRESET_TABLE, privacyPresetHelp, type PrivacyPresetName } from '@fedrec/coordinator/privacy/presets.js';
import { parseStalenessPolicy } from '@fedrec/coordinator/buffered/staleness.js';
import { parseDeviceSpeed, parseStragglers, slowdownFactors } from './socket/device-speed.js';
import { SIMULATE_DEFAULTS } from './defaults.js';

const F = RECSYS_DEFAULTS.federated;
/** What each --negative-exclusion mode means, printed with the data summary so every figure says its protocol. */
const EXCLUSION_LINES: Record<NegativeExclusion, string> = {
  'held-out': "the user's validation and test items (PFedRec's sampling; training reads the test item's id to avoid it)",
  validation: "the user's validation item only (strict protocol: training never reads the test item; it may be drawn as a negative)",
  none: 'no held-out item (either may be drawn as a negative)',
};
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

const schedule = (v: string) => {
  try {
    parseLrSchedule(v);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return v;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${v}"`);
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

function flagParser<T>(parse: (v: string) => T): (v: string) => string {
  return (v) => {
    try {
      parse(v);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
    return v;
  };
}
const parseStalenessPolicyFlag = flagParser(parseStalenessPolicy);
const parseDeviceSpeedFlag = flagParser(parseDeviceSpeed);
const parseStragglersFlag = flagParser(parseStragglers);

const program = new Command('simulate')
  .description('Federated recommendation over real Socket.IO on loopback: one SDK client per user.')
  .option(
    '--data <path|synthetic|sequential-pattern>',
    'interactions: a MovieLens u.data file, a CSV/TSV file, synthetic, or sequential-pattern (next = f(previous))',
    'synthetic',
  )
  .option('--clients <n>', 'simulated devices (users), default all', int)
  .option('--rounds <n>', 'federated rounds', int, SIMULATE_DEFAULTS.rounds)
  // Parsed with the flags (commander names the flag), before any data loads.
  .option('--clients-per-round <n|all>', 'devices trained per round', (v: string) => (v === 'all' ? v : String(int(v))), 'all')
  .option('--local-epochs <n>', 'local epochs per round', int, F.localEpochs)
  .option('--batch-size <n>', 'client batch size', int, F.batchSize)
  .option('--lr <x>', `client learning rate (default ${F.clientLr}; a model's own default where it registers one, e.g. seq)`, num, F.clientLr)
  .option('--negatives <n>', 'sampled negatives per positive in local training', int, F.negatives)
  .option('--server-lr <x>', 'server learning rate (strategies with serverLearningRate)', num, F.serverLr)
  .option('--server-lr-schedule <spec>', `server lr schedule (strategies with serverLrSchedule): ${LR_SCHEDULE_HELP}`, schedule)
  .option('--client-lr-schedule <spec>', `client lr schedule, sent by the coordinator as round config: ${LR_SCHEDULE_HELP}`, schedule)
  .option('--proximal-mu <x>', "FedProx's mu, sent by the coordinator as round config (0 = off)", nonNegative, 0)
  .addOption(
    new Option('--holdout <mode>', 'which interaction per user is the test item (and the one before it the validation item)')
      .choices(HOLDOUT_MODES)
      .default('latest'),
  )
  .addOption(
    new Option(
      '--negative-exclusion <mode>',
      "held-out items training never samples as negatives, here and in --compare-centralized's baselines: held-out (validation and test item, PFedRec's sampling), validation (the strict protocol: training never reads the test item), none",
    )
      .choices(NEGATIVE_EXCLUSIONS)
      .default('held-out'),
  )
  .addOption(
    new Option(
      '--pfedrec-fine-tune <rows>',
      "with --personalization pfedrec, the item rows each device keeps fine-tuned: touched (every row the round trained, PFedRec's) or positives (only its own items' rows); sent as round config",
    )
      .choices(PFEDREC_FINE_TUNES)
      .default('touched'),
  )
  .option('--max-abandoned <n>', 'end the run (with a report saying so) after this many abandoned rounds in a row', int, 5)
  .option('--time-limit-min <m>', 'end the federated run (with a report saying so) after this many minutes', num)
  .addOption(
    new Option('--strategy <name>', "the coordinator's aggregation strategy (see Strategies below)")
      .choices(STRATEGY_NAMES)
      .default(SIMULATE_DEFAULTS.strategy),
  )
  .option('--strategy-options <json>', 'the strategy\'s options as JSON, e.g. {"eta":0.05}', json, {})
  .addOption(new Option('--model <name>', 'model').choices(['neumf', 'gmf', 'mf', 'mlp', 'seq']).default(SIMULATE_DEFAULTS.model))
  .option(
    '--factors <n>',
    `predictive factors (default ${SIMULATE_DEFAULTS.factors} for ${SIMULATE_DEFAULTS.model}, ${RECSYS_DEFAULTS.factors} for the other NCF models; seq: ${SEQ_DEFAULTS.factors})`,
    int,
  )
  .option('--seq-len <n>', 'seq model: recent items in the device state', int, SEQ_DEFAULTS.seqLen)
  .option('--seq-tied', 'seq model: one item table for input and output (SASRec-style tying)')
  .option('--no-seq-tied', 'seq model: separate input and output item tables')
  .option('--seq-long-term', "seq model: add Fossil's long-term term (FISM over the device's last --seq-history items, a learned weight)")
  .option('--seq-attention', "seq model: add a self-attention pooling over the recent items (SASRec's last position, one head)")
  .option('--no-seq-attention', 'seq model: no attention pooling')
  .option('--seq-history <n>', 'seq model: past items the long-term term reads (the device state holds them)', int, SEQ_DEFAULTS.historyLen)
  .addOption(
    new Option('--personalization <name>', "on-device personalization: none, or pfedrec (PFedRec's per-device score function + item fine-tune)")
      .choices([...PERSONALIZATIONS])
      .default(SIMULATE_DEFAULTS.personalization),
  )
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
  .option('--centralized-epochs <n>', 'most epochs of the centralized baselines (each stops early on validation)', int, STRONG_BASELINE.maxEpochs)
  .option(
    '--privacy <preset>',
    privacyPresetHelp(),
    (v: string) => {
      if (!(PRIVACY_PRESETS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${PRIVACY_PRESETS.join(', ')}`);
      return v;
    },
    'off',
  )
  .addOption(
    new Option('--mode <mode>', 'sync rounds, or buffered asynchronous aggregation (FedBuff; --rounds counts versions)')
      .choices(['sync', 'buffered'])
      .default('sync'),
  )
  .option('--buffer-size <k>', 'buffered: accepted updates per version', int, 10)
  .option('--max-staleness <n>', 'buffered: refuse updates more than n versions behind', int, 20)
  .option('--staleness <policy>', 'buffered: constant | polynomial[:a] | hinge[:after[:slope]]', parseStalenessPolicyFlag, 'polynomial:0.5')
  .option('--concurrency <n>', 'buffered: fit tasks in flight at once (default: --clients-per-round)', int)
  .option('--device-speed <spec>', 'uniform, or lognormal:SIGMA: each device answers factor x its training time (seeded)', parseDeviceSpeedFlag, 'uniform')
  .option('--stragglers <spec>', 'FRACTIONxFACTOR (e.g. 0.1x10: 10% of devices 10x slower again) or none', parseStragglersFlag, 'none')
  .option('--target-hr <x>', 'stop at the first evaluated version with HR@10 >= x', num)
  .option('--report <path>', 'write a JSON report here (and a chart beside it)')
  .option('--chart <path>', 'where the SVG chart goes (default: the report path with .svg)')
  .addHelpText('after', `\nStrategies (--strategy, options in --strategy-options):\n${strategyHelp()}`);

interface Flags {
  mode: 'sync' | 'buffered';
  bufferSize: number;
  maxStaleness: number;
  staleness: string;
  concurrency?: number;
  deviceSpeed: string;
  stragglers: string;
  targetHr?: number;
  data: string;
  clients?: number;
  rounds: number;
  clientsPerRound: string;
  localEpochs: number;
  batchSize: number;
  lr: number;
  negatives: number;
  serverLr: number;
  serverLrSchedule?: string;
  clientLrSchedule?: string;
  proximalMu: number;
  holdout: HoldoutMode;
  negativeExclusion: NegativeExclusion;
  pfedrecFineTune: PfedrecFineTune;
  maxAbandoned: number;
  timeLimitMin?: number;
  strategy: string;
  strategyOptions: Record<string, unknown>;
  model: NcfKind | 'seq';
  factors?: number;
  seqLen: number;
  seqTied?: boolean;
  seqLongTerm?: boolean;
  seqAttention?: boolean;
  seqHistory: number;
  personalization: Personalization;
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
  privacy: PrivacyPresetName;
}

function loadData(f: Flags): InteractionDataset {
  if (f.data === 'sequential-pattern') return generateSequentialPattern({ seed: f.seed, ...(f.syntheticUsers ? { users: f.syntheticUsers } : {}) });
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
  const val = r.valHr10 !== null ? `  (val ${pct(r.valHr10)})` : '';
  const quality = r.hr10 !== null ? `HR@10 ${pct(r.hr10)}  NDCG@10 ${pct(r.ndcg10!)}${val}  eval ${r.evalDevices} devices` : ''.padEnd(30);
  const loss = r.trainLoss !== null ? r.trainLoss.toFixed(4) : '-';
  const eps = r.epsilon !== undefined && r.epsilon !== null ? `  ε ${r.epsilon.toFixed(2)}` : '';
  const line = `round ${String(r.round).padStart(4)}  ${r.outcome === 'committed' ? 'ok ' : 'ABANDONED'} ${String(r.participants).padStart(5)} devices  ${String(r.failures).padStart(3)} failed  loss ${loss}  ${quality}  up ${mb(r.bytesUp)}  down ${mb(r.bytesDown)} (per device ${kb(r.bytesUpPerDevice)} up, ${kb(r.bytesDownPerDevice)} down)  ${secs(r.wallClockMs)}  lag ${r.maxWorkerLagMs}/${r.maxCoordinatorLagMs} ms${eps}`;
  // Why, not just how many: each failure code with its most common reason, and why a round was abandoned.
  const why = [
    ...(r.failures ? [`round ${r.round}: ${r.failures} failed: ${formatFailureGroups(r.failureGroups)}`] : []),
    ...(r.abandonReason ? [`round ${r.round}: abandoned: ${r.abandonReason}`] : []),
  ];
  return [line, ...why.map((w) => `    ${w}`)].join('\n');
}

async function main(): Promise<void> {
  // A model's registered client settings (ModelEntry.trainingDefaults) replace the family's defaults, never a flag given.
  const parsed = program.parse(process.argv).opts<Flags>();
  const given = (flag: string): boolean => {
    const source = program.getOptionValueSource(flag);
    return source !== undefined && source !== 'default';
  };
  const f = withModelTrainingDefaults(parsed.model, parsed, given);
  // The default strategy and personalization were chosen for the default model; another model keeps its own measured ones.
  if (f.model !== SIMULATE_DEFAULTS.model) {
    if (!given('strategy')) f.strategy = SIMULATE_DEFAULTS.otherModels.strategy;
    if (!given('personalization')) f.personalization = SIMULATE_DEFAULTS.otherModels.personalization;
  }
  const data = loadData(f);
  console.log(`data: ${f.data}: ${formatLoadSummary(data.summary)}`);
  // PFedRec's protocol: a validation item besides the test item, so rounds and epochs are chosen without the test item.
  const split = leaveOneOut(data, { seed: f.seed, negatives: RECSYS_DEFAULTS.split.negatives, holdout: f.holdout, validation: true });
  const holdoutLine = describeHoldout(data, f.holdout, true);
  console.log(`data: ${holdoutLine}${split.skippedUsers ? `; ${split.skippedUsers} users with fewer than 3 interactions left out` : ''}`);
  console.log(`data: training negatives exclude ${EXCLUSION_LINES[f.negativeExclusion]}`);
  // Every device gets its time-ordered history: sequence models train on it, the NCF family ignores the order.
  const users = withSequences(data, f.clients ? split.users.slice(0, f.clients) : split.users);
  if (users.length === 0) throw new Error('no users with at least two interactions to simulate');
  // The default model's default width is SIMULATE_DEFAULTS'; another model keeps its own unless --factors says.
  const factorsFlag = f.factors ?? (f.model === SIMULATE_DEFAULTS.model ? SIMULATE_DEFAULTS.factors : undefined);
  const options =
    f.model === 'seq'
      ? seqModelOptions(split.numItems, {
          ...(factorsFlag ? { factors: factorsFlag } : {}),
          seqLen: f.seqLen,
          ...(f.seqTied === undefined ? {} : { tied: f.seqTied }),
          ...(f.seqLongTerm ? { longTerm: true, historyLen: f.seqHistory } : {}),
          ...(f.seqAttention === undefined ? {} : { attention: f.seqAttention }),
        })
      : recsysModelOptions(split.numItems, factorsFlag === undefined || factorsFlag === RECSYS_DEFAULTS.factors ? {} : { factors: factorsFlag });
  // A privacy preset samples a fraction of the devices and steps the server further (coordinator/privacy/presets.ts)
  // unless --clients-per-round or --server-lr say otherwise.
  const preset = f.privacy === 'off' ? undefined : PRIVACY_PRESET_TABLE[f.privacy];
  const clientsPerRound =
    f.clientsPerRound === 'all'
      ? preset?.clientsPerRound !== undefined
        ? Math.max(1, Math.round(preset.clientsPerRound * users.length))
        : 'all'
      : int(f.clientsPerRound);
  const serverLr = preset?.serverLearningRate !== undefined && f.serverLr === F.serverLr ? preset.serverLearningRate : f.serverLr;
  // Validated before any training, so a bad option fails in a second rather than after the baselines.
  const strategy = {
    name: f.strategy,
    options: parseStrategyOptions(
      f.strategy,
      withShorthands(f.strategy, { serverLearningRate: serverLr, serverLrSchedule: f.serverLrSchedule }, f.strategyOptions),
    ),
  };
  const roundConfig = { ...(f.clientLrSchedule ? { clientLrSchedule: f.clientLrSchedule } : {}), ...(f.proximalMu > 0 ? { proximalMu: f.proximalMu } : {}) };

  const itemPop = evaluateItemPop(users, split.numItems);
  console.log(`ItemPop: HR@10 ${pct(itemPop.hr10)}  NDCG@10 ${pct(itemPop.ndcg10)}`);

  let centralized: SimulationReport['centralized'] = null;
  let strongBaseline: SimulationReport['strongBaseline'] = null;
  if (f.compareCentralized && f.model === 'seq') {
    // The seq model's own centralized run (recsys/baselines/seq-centralized.ts): same split, protocol and early stopping.
    const t0 = Date.now();
    const c = SEQ_CENTRALIZED;
    const run = trainSeqCentralized(options, users, { ...c, epochs: f.centralizedEpochs, seed: f.seed, negativeExclusion: f.negativeExclusion });
    const factors = Number(options['factors']);
    centralized = {
      hr10: run.final.hr10,
      ndcg10: run.final.ndcg10,
      wallClockMs: Date.now() - t0,
      epochs: run.epochsRun,
      bestEpoch: run.bestEpoch,
      validationHr10: run.validation?.hr10 ?? null,
      model: 'seq',
      factors,
    };
    console.log(
      `centralized seq-${factors} (SGD lr ${c.learningRate}, batch ${c.batchSize}): HR@10 ${pct(run.final.hr10)}  NDCG@10 ${pct(run.final.ndcg10)}  (epoch ${run.bestEpoch} chosen on validation HR@10 ${pct(run.validation?.hr10 ?? NaN)}, ${run.epochsRun} run, ${secs(centralized.wallClockMs)})`,
    );
  }
  if (f.compareCentralized && f.model !== 'seq') {
    const model = f.model;
    const factors = Number(options['factors']);
    const b = STRONG_BASELINE;
    // The same model as the federated run, and the strong tuned baseline (recsys/baselines/strong-baseline.ts):
    // Adam, early stopping on the validation item; the test item is read once, for the epoch chosen.
    const runs = [
      { label: `centralized ${model}`, kind: model, factors },
      {
        label: `centralized ${b.model} f=${b.factors}${b.seeds > 1 ? `, ${b.seeds} seeds averaged` : ''} (strong baseline)`,
        kind: b.model,
        factors: b.factors,
      },
    ];
    for (const [k, r] of runs.entries()) {
      const t0 = Date.now();
      const a = k === 0 ? ncfArch(model, options) : ncfArch(r.kind, recsysModelOptions(split.numItems, { factors: r.factors, initStd: b.initStd }));
      const trainOptions: CentralizedOptions = {
        epochs: f.centralizedEpochs,
        batchSize: b.batchSize,
        learningRate: k === 0 ? RECSYS_DEFAULTS.centralized.learningRate : b.learningRate,
        optimizer: 'adam',
        negatives: k === 0 ? RECSYS_DEFAULTS.centralized.negatives : b.negatives,
        seed: f.seed,
        evalEvery: 1,
        l2: k === 0 ? 0 : b.l2,
        patience: b.patience,
        refit: b.refit,
        // Like-for-like: the baselines sample negatives exactly as the federated devices do.
        negativeExclusion: f.negativeExclusion,
      };
      // The strong baseline averages the scores of b.seeds seeds (recsys/baselines/seed-ensemble.ts).
      const ensemble = k === 0 ? null : trainSeedEnsemble(a, users, split.numUsers, trainOptions, b.seeds);
      const run = ensemble ? ensemble.members[0]! : trainCentralized(a, users, split.numUsers, trainOptions);
      const final = ensemble ? ensemble.final : run.final;
      const figures = {
        hr10: final.hr10,
        ndcg10: final.ndcg10,
        wallClockMs: Date.now() - t0,
        epochs: run.epochsRun,
        bestEpoch: run.bestEpoch,
        validationHr10: run.validation?.hr10 ?? null,
        model: r.kind,
        factors: r.factors,
      };
      if (k === 0) centralized = figures;
      else strongBaseline = { ...figures, learningRate: b.learningRate, l2: b.l2, negatives: b.negatives, initStd: b.initStd, seeds: b.seeds };
      console.log(
        `${r.label}: HR@10 ${pct(figures.hr10)}  NDCG@10 ${pct(figures.ndcg10)}  (epoch ${run.bestEpoch} chosen on validation HR@10 ${pct(figures.validationHr10 ?? NaN)}, ${run.epochsRun} run, ${secs(figures.wallClockMs)})`,
      );
    }
  }

  console.log(
    `federated ${f.model}: ${users.length} devices over Socket.IO in ${f.workers} worker threads, ${f.rounds} rounds, ${clientsPerRound} per round (round deadline ${secs(simulationRoundTimeoutMs(clientsPerRound === 'all' ? users.length : clientsPerRound, f.workers))}), engine ${f.engine}, client lr ${f.lr}${f.clientLrSchedule ? ` (${f.clientLrSchedule})` : ''}, personalization ${f.personalization}, strategy ${strategy.name} ${JSON.stringify(strategy.options)}`,
  );
  const bar = process.stdout.isTTY
    ? new cliProgress.SingleBar(
        { format: 'round {round} [{bar}] {value}/{total} devices | {duration}s', clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let fitted = 0;
  const speed = { lognormalSigma: parseDeviceSpeed(f.deviceSpeed), stragglers: parseStragglers(f.stragglers) };
  const factors = speed.lognormalSigma > 0 || speed.stragglers ? slowdownFactors(users.length, speed, f.seed) : undefined;
  if (f.mode === 'buffered')
    console.log(
      `buffered (FedBuff): K = ${f.bufferSize}, max staleness ${f.maxStaleness}, staleness ${f.staleness}, concurrency ${f.concurrency ?? clientsPerRound}`,
    );
  const result = await runSocketSimulation({
    mode: f.mode,
    ...(f.mode === 'buffered'
      ? {
          buffered: {
            bufferSize: f.bufferSize,
            maxStaleness: f.maxStaleness,
            staleness: parseStalenessPolicy(f.staleness),
            concurrency: f.concurrency ?? clientsPerRound,
          },
        }
      : {}),
    ...(factors ? { slowdown: Object.fromEntries(users.map((u, i) => [u.user, factors[i]!])) } : {}),
    ...(f.targetHr !== undefined ? { targetHr: f.targetHr } : {}),
    onEvaluated: (row) => console.log(`version ${row.modelVersion}: HR@10 ${pct(row.hr10!)}  NDCG@10 ${pct(row.ndcg10!)}  eval ${row.evalDevices} devices`),
    users,
    modelSpec: { name: f.model, options },
    rounds: f.rounds,
    clientsPerRound,
    trainingConfig: {
      localEpochs: f.localEpochs,
      batchSize: f.batchSize,
      learningRate: f.lr,
      optimizer: 'sgd',
      extra: { negatives: f.negatives, negativeExclusion: f.negativeExclusion, pfedrecFineTune: f.pfedrecFineTune },
    },
    serverLearningRate: serverLr,
    strategy,
    roundConfig,
    maxAbandoned: f.maxAbandoned,
    ...(f.timeLimitMin !== undefined ? { timeLimitMs: f.timeLimitMin * 60_000 } : {}),
    evaluateEvery: f.evaluateEvery,
    workers: f.workers,
    engine: f.engine,
    seed: f.seed,
    privacy: f.privacy,
    personalization: f.personalization,
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
  if (result.stopped) console.log(`\nthe federated run ENDED EARLY: ${result.stopped}`);
  if (f.targetHr !== undefined) {
    const t = result.target;
    console.log(
      t
        ? `target HR@10 ${f.targetHr} reached by version ${t.modelVersion} (${pct(t.hr10)} over ${t.devices} of ${users.length} devices): ${secs(t.ms)} after training started, ${mb(t.bytesUp)} up, ${mb(t.bytesDown)} down`
        : `target HR@10 ${f.targetHr} not reached`,
    );
  }

  const bytesUp = result.rounds.reduce((n, r) => n + r.bytesUp, 0);
  const bytesDown = result.rounds.reduce((n, r) => n + r.bytesDown, 0);
  // The round reported is chosen on the validation item only; its test figures are then read.
  const chosenRound = chooseRoundOnValidation(result.rounds);
  const chosen = result.rounds.find((r) => r.round === chosenRound) ?? null;
  const coverage = chosen ? coverageOf(users, result.evaluatedDevices.get(chosen.round) ?? []) : null;
  const last = result.final;
  const federated = chosen
    ? { hr10: chosen.hr10!, ndcg10: chosen.ndcg10!, wallClockMs: result.wallClockMs }
    : last
      ? { hr10: last.hr10, ndcg10: last.ndcg10, wallClockMs: result.wallClockMs }
      : null;
  const ratios = federated ? ratiosOf(federated, centralized) : null;
  const strongRatios = federated ? ratiosOf(federated, strongBaseline) : null;

  console.log('\n                     HR@10    NDCG@10   wall-clock');
  console.log(`ItemPop              ${pct(itemPop.hr10)}   ${pct(itemPop.ndcg10)}`);
  if (strongBaseline)
    console.log(
      `centralized ${`${strongBaseline.model}-${strongBaseline.factors}`.padEnd(9)}${pct(strongBaseline.hr10)}   ${pct(strongBaseline.ndcg10)}    ${secs(strongBaseline.wallClockMs)}  (strong baseline)`,
    );
  if (centralized)
    console.log(
      `centralized ${`${f.model}-${String(options['factors'])}`.padEnd(9)}${pct(centralized.hr10)}   ${pct(centralized.ndcg10)}    ${secs(centralized.wallClockMs)}`,
    );
  if (federated)
    console.log(
      `federated ${`${f.model}-${String(options['factors'])}`.padEnd(11)}${pct(federated.hr10)}   ${pct(federated.ndcg10)}    ${secs(federated.wallClockMs)}  (${mb(bytesUp)} up, ${mb(bytesDown)} down)`,
    );
  else console.log('federated: no evaluated round: no figure to report');
  if (chosen && coverage)
    console.log(
      `federated figures: round ${chosen.round}, chosen on validation HR@10 ${pct(chosen.valHr10!)} (never on test); evaluation covered ${coverage.covered} of ${coverage.devices} devices${coverage.missing.length ? ` (NOT covered: ${coverage.missing.slice(0, 20).join(', ')}${coverage.missing.length > 20 ? ', ...' : ''})` : ' (all)'}`,
    );
  if (ratios) console.log(`federated / centralized ${f.model}: HR@10 ${ratios.hr10.toFixed(3)}x  NDCG@10 ${ratios.ndcg10.toFixed(3)}x`);
  if (strongRatios) console.log(`federated / strong baseline: HR@10 ${strongRatios.hr10.toFixed(3)}x  NDCG@10 ${strongRatios.ndcg10.toFixed(3)}x`);
  // The mean, not the median: an evaluated round downloads the next version early and the round after it none.
  const perDevice = { up: mean(result.rounds.map((r) => r.bytesUpPerDevice)), down: mean(result.rounds.map((r) => r.bytesDownPerDevice)) };
  console.log(
    `bytes down/up per device per round (mean over ${result.rounds.length} rounds, compression ${f.compression}): ${kb(perDevice.down)} down, ${kb(perDevice.up)} up`,
  );

  if (f.report) {
    const report: SimulationReport = {
      generatedAt: new Date().toISOString(),
      command: process.argv.slice(2),
      data: {
        source: f.data,
        summary: data.summary,
        users: split.numUsers,
        items: split.numItems,
        clients: users.length,
        holdout: f.holdout,
        holdoutDescription: holdoutLine,
        skippedUsers: split.skippedUsers,
      },
      config: {
        model: f.model,
        modelOptions: options,
        rounds: f.rounds,
        clientsPerRound,
        localEpochs: f.localEpochs,
        batchSize: f.batchSize,
        learningRate: f.lr,
        serverLearningRate: serverLr,
        serverLrSchedule: f.serverLrSchedule ?? 'constant',
        clientLrSchedule: f.clientLrSchedule ?? 'constant',
        proximalMu: f.proximalMu,
        maxAbandoned: f.maxAbandoned,
        timeLimitMin: f.timeLimitMin ?? null,
        strategy: strategy.name,
        strategyOptions: strategy.options,
        negatives: f.negatives,
        negativeExclusion: f.negativeExclusion,
        pfedrecFineTune: f.pfedrecFineTune,
        evaluateEvery: f.evaluateEvery,
        engine: f.engine,
        personalization: f.personalization,
        workers: f.workers,
        compression: f.compression,
        seed: f.seed,
        privacy: f.privacy,
      },
      itemPop: { hr10: itemPop.hr10, ndcg10: itemPop.ndcg10 },
      centralized,
      strongBaseline,
      federated: {
        hr10: federated?.hr10 ?? null,
        ndcg10: federated?.ndcg10 ?? null,
        wallClockMs: result.wallClockMs,
        chosenRound,
        chosenOn: 'validation',
        validationHr10: chosen?.valHr10 ?? null,
        lastEvaluated: last,
        coverage,
        stopped: result.stopped,
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
      strongRatios,
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
