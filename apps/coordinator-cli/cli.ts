#!/usr/bin/env node
// The coordinator service entry: the only coordinator file that reads process.env, argv and files.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { getModel, registeredModels } from '@fedrec/models/registry.js';
import { CLI_KEYS, CliUsageError, configFromEnv, envName, resolveCliConfig } from './cli-config.js';
import type { CliConfig, CliKey } from './cli-config.js';
import { coordinatorOptionsFromCli, modelSpecOf } from './cli-options.js';
import { securityFilesFromCli } from './cli-security.js';
import { readCatalogueFile } from './catalogue-file.js';
import { createCliLogger } from './cli-logger.js';
import { joinCluster } from './cluster-cli.js';
import { cliDefaults } from './help-defaults.js';
import { STRATEGY_NAMES, strategyHelp } from '@fedrec/coordinator/strategy/registry.js';
import { privacyPresetHelp } from '@fedrec/coordinator/privacy/presets.js';
import { createCoordinator } from '@fedrec/coordinator/coordinator.js';
import { dashboardExtension } from '@fedrec/dashboard';
import { errorFields } from '@fedrec/coordinator/logger.js';
import { setHeapGrowingPercent } from '@fedrec/coordinator/heap-growth.js';

function program(): Command {
  const cmd = new Command('fedrec-coordinator')
    .description('Federated learning coordinator for recommendation models (REST + Socket.IO on one port).')
    .option('--config <file>', 'JSON config file (keys as below, camelCase)')
    .option('--verbose', 'print the stack trace of a fatal error');
  const flags: Array<[CliKey, string, string]> = [
    ['port', '-p, --port <n>', 'TCP port (0 = any free port); also PORT'],
    ['host', '--host <host>', 'interface to listen on'],
    ['model', '--model <name>', `model name from the registry: ${registeredModels().join(', ')}`],
    ['modelOptions', '--model-options <json>', 'model options as JSON, e.g. {"numItems":1682}'],
    ['seed', '--seed <n>', 'seed for the initial weights'],
    ['rounds', '--rounds <n|continuous>', 'rounds to commit, or continuous'],
    ['minClients', '--min-clients <n>', 'clients needed before a round starts'],
    ['clientsPerRound', '--clients-per-round <n|fraction|all>', 'clients per round: count >= 1, fraction in (0,1), or all'],
    ['roundTimeoutMs', '--round-timeout-ms <ms>', 'deadline for fit/evaluate answers'],
    ['minResults', '--min-results <n>', 'accepted results needed to commit a round'],
    ['retryDelayMs', '--retry-delay-ms <ms>', 'pause after an abandoned round'],
    ['roundIntervalMs', '--round-interval-ms <ms>', 'pause between committed rounds (0 = back to back)'],
    ['evaluateEvery', '--evaluate-every <k>', 'evaluate after every k-th commit (0 = never)'],
    ['checkpointDir', '--checkpoint-dir <dir>', 'where checkpoints and the key live'],
    ['keepCheckpoints', '--keep-checkpoints <n>', 'checkpoints to keep'],
    ['keyFile', '--key-file <file>', 'X25519 key file (default <checkpoint-dir>/coordinator-key.json)'],
    ['authToken', '--auth-token <token>', 'shared token clients must present (an outer gate; device keys decide who is who)'],
    ['maxUpdateBytes', '--max-update-bytes <n>', 'largest sealed update accepted'],
    ['updateWorkers', '--update-workers <n>', 'threads that open, validate and sum updates (default: cores - 1, min 1; 0 = main thread)'],
    ['maxUpdatesInFlight', '--max-updates-in-flight <n>', 'updates being opened/summed at once (default 2 per worker)'],
    ['uploadBudgetBytes', '--upload-budget-bytes <n>', 'upload pacing: sealed bytes granted upload slots at once (default 64 MiB; 0 = no pacing)'],
    ['uploadSlotHoldMs', '--upload-slot-hold-ms <ms>', 'upload pacing: how long a granted slot waits for its update (default 60000)'],
    ['heapGrowingPercent', '--heap-growing-percent <n>', "V8's old-generation growing factor, 1 + n/100 (0 = V8's own): fewer main-thread GCs in rounds"],
    ['operatorToken', '--operator-token <token>', 'operator credential for the dashboard, /api/rounds and /metrics (>= 16 chars)'],
    ['tlsCert', '--tls-cert <file>', 'PEM certificate (chain): serve https + wss (with --tls-key)'],
    ['tlsKey', '--tls-key <file>', 'PEM private key for --tls-cert'],
    ['allowedKeysFile', '--allowed-keys <file>', 'enrolment: admit only these device public keys (hex, one a line)'],
    ['enrolmentKey', '--enrolment-key <hex>', "enrolment: admit devices with a token signed by the app backend's ed25519 key"],
    ['trustProxy', '--trust-proxy <bool>', 'count limits per X-Forwarded-For client (only behind your own reverse proxy)'],
    ['handshakeTimeoutMs', '--handshake-timeout-ms <ms>', 'time a new connection has to sign its nonce'],
    ['maxMetricKeys', '--max-metric-keys <n>', 'metric names one update may carry (default 32)'],
    ['maxConnectionsPerAddress', '--max-connections-per-address <n>', 'open connections per address (default 256, 0 = off)'],
    ['maxHandshakesPerSecond', '--max-handshakes-per-second <n>', 'handshakes per address per second (default 50, 0 = off)'],
    ['logLinesPerClientPerMinute', '--log-lines-per-client-per-minute <n>', 'log lines one client may cause a minute (default 30, 0 = off)'],
    ['strategy', '--strategy <name>', `aggregation strategy: ${STRATEGY_NAMES.join(', ')} (see Strategies below)`],
    ['strategyOptions', '--strategy-options <json>', 'the strategy\'s options as JSON, e.g. {"eta":0.05}'],
    ['serverLearningRate', '--server-lr <x>', 'server learning rate (strategies with serverLearningRate)'],
    ['momentum', '--momentum <x>', 'server momentum (strategies with momentum: fedavgm)'],
    ['serverLrSchedule', '--server-lr-schedule <spec>', 'server lr schedule: constant | step:EVERY:GAMMA | exponential:GAMMA | cosine:ROUNDS[:FLOOR]'],
    ['clientLrSchedule', '--client-lr-schedule <spec>', 'client lr schedule, sent as round config (same specs as --server-lr-schedule)'],
    ['proximalMu', '--proximal-mu <x>', "FedProx's mu, sent as round config (0 = off)"],
    ['localEpochs', '--local-epochs <n>', 'client epochs per round'],
    ['batchSize', '--batch-size <n>', 'client batch size'],
    ['learningRate', '--learning-rate <x>', 'client learning rate'],
    ['optimizer', '--optimizer <name>', 'sgd or adam'],
    ['trainingExtra', '--training-extra <json>', 'extra trainer settings as JSON'],
    [
      'negativeExclusion',
      '--negative-exclusion <mode>',
      'recommenders: held-out items devices never sample as negatives: held-out (validation and test), validation (strict: training never reads the test item) or none; sent as round config',
    ],
    ['corsOrigin', '--cors-origin <origin>', 'origin allowed for browser clients'],
    [
      'secureAggregation',
      '--secure-aggregation <mode>',
      'secagg+ (default: k neighbours; the coordinator sees only sums, >= 3 devices a round), secagg (all pairs, <= 255 a round) or off (plain: it opens each update)',
    ],
    ['compression', '--compression <codec>', 'model downloads and update deltas: none (float32), fp16 or int8 (per-row scales; uploads with error feedback)'],
    ['privacy', '--privacy <off|standard|strict>', privacyPresetHelp()],
    [
      'dpClip',
      '--dp-clip <fixed|adaptive[:q]>',
      "with a DP preset: the preset's fixed clip norm, or adaptive towards the q-quantile of update norms (default 0.5; Andrew et al. 2021; under secure aggregation each device masks its clipping bit)",
    ],
    ['secaggThreshold', '--secagg-threshold <t>', 'shares needed: auto (Bell et al., default), a count >= 2 or a fraction in [0.5, 1] of each sharing group'],
    ['secaggNeighbours', '--secagg-neighbours <k|auto>', 'secagg+ neighbours per client (even), or auto (Bell et al.: from the dropout and corruption rates)'],
    ['secaggDropoutRate', '--secagg-dropout-rate <f>', 'secagg auto parameters: expected fraction of devices dropping mid-round (default 0.3)'],
    ['secaggCorruptionRate', '--secagg-corruption-rate <f>', 'secagg auto parameters: fraction of devices that may collude with the server (default 0.05)'],
    ['mode', '--mode <sync|buffered>', 'sync rounds, or buffered asynchronous aggregation (FedBuff: a version every --buffer-size updates)'],
    ['bufferSize', '--buffer-size <k>', 'buffered: accepted updates per committed version (default 10)'],
    ['maxStaleness', '--max-staleness <n>', 'buffered: refuse updates more than n versions behind with STALE_UPDATE (default 20)'],
    ['staleness', '--staleness <policy>', 'buffered: constant | polynomial[:a] (1/(1+s)^a) | hinge[:after[:slope]] (default polynomial:0.5)'],
    ['concurrency', '--concurrency <n|all>', 'buffered: most fit tasks in flight at once (default all)'],
    ['clipRange', '--clip-range <x>', 'secagg: each delta value is clipped to [-x, x]'],
    ['quantizationBits', '--quantization-bits <n>', 'secagg: fixed-point bits per value (sum of n clients needs bits + log2 n <= ~32)'],
    ['secaggMaxWeight', '--secagg-max-weight <w>', 'secagg: numExamples and row weights are clipped to [0, w]'],
    ['secaggNormBound', '--secagg-norm-bound <x>', 'secagg: each client scales its delta to L2 norm <= x before masking (default none)'],
    ['secaggStageTimeoutMs', '--secagg-stage-timeout-ms <ms>', 'secagg: deadline of the advertise, share-keys and unmask stages'],
    [
      'normBound',
      '--norm-bound <adaptive|off|x>',
      'plain mode: L2 bound on each update (adaptive: multiplier x the quantile of the last 500 norms; or a fixed x)',
    ],
    ['normBoundMultiplier', '--norm-bound-multiplier <x>', 'adaptive norm bound: multiplier of the quantile (default 3)'],
    ['normBoundQuantile', '--norm-bound-quantile <q>', 'adaptive norm bound: quantile of recent norms (default 0.5)'],
    ['weightCap', '--weight-cap <adaptive|off|n>', "plain mode: cap on each update's example count (adaptive: 10 x the median of the last 500; or a fixed n)"],
    ['autoRollback', '--auto-rollback <on|off>', 'roll back a model whose evaluation collapses or that clients cannot train on (default on)'],
    ['rollbackTo', '--rollback-to <version>', 'at start, serve the weights of this kept checkpoint version under a new version'],
    ['catalogue', '--catalogue <file>', 'initial catalogue (JSON or CSV id,tags,title): app item ids for the model rows; sets numItems'],
    ['redis', '--redis <url>', 'join a cluster of coordinator nodes over this Redis (redis://host:port); needs a --checkpoint-dir all nodes share'],
    ['nodeId', '--node-id <id>', "this node's id in the cluster (default: random)"],
    ['leaseTtlMs', '--lease-ttl-ms <ms>', 'cluster: leader lease TTL, the bound on a leader hand-over after a crash (default 3000)'],
    ['logLevel', '--log-level <level>', 'pino level'],
    ['logFormat', '--log-format <auto|pretty|json>', 'pretty on a terminal and JSON when piped (auto), or either always'],
  ];
  const defaults = cliDefaults();
  for (const [key, flag, help] of flags) {
    const shown = defaults[key] === undefined ? '' : ` (default: ${defaults[key]})`;
    cmd.addOption(new Option(flag, `${help}${shown} [env ${envName(key)}]`).argParser((v) => v));
  }
  cmd.addHelpText(
    'after',
    `\nModels (--model): ${registeredModels().join(', ')}\n\nStrategies (--strategy, options in --strategy-options):\n${strategyHelp()}\n` +
      `Memory: fedavg, fedavgm, fedadam, fedyogi and fedadagrad stream updates into sums, O(model); median, trimmed-mean and krum buffer\n` +
      `every accepted update of a round, O(clients x model), and work in plain mode only (not with secure aggregation).`,
  );
  return cmd;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliUsageError(`--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new CliUsageError(`--config ${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Every URL an operator needs, from the one the server listens on. */
function serviceUrls(url: string, config: CliConfig): Record<string, string> {
  return {
    dashboard: `${url}/`,
    api: `${url}/api/status`,
    metrics: `${url}/metrics`,
    clients: `${url} (Socket.IO${config.authToken ? ', token required' : ''})`,
    listening: `${config.host}:${new URL(url).port}`,
  };
}

async function main(): Promise<void> {
  const cmd = program().parse(process.argv);
  const cliFlags = cmd.opts<Record<string, unknown>>();
  const { config: configFile, ...flagValues } = cliFlags;
  const flagSettings = Object.fromEntries(
    Object.entries(flagValues)
      .map(([k, v]) => [k === 'serverLr' ? 'serverLearningRate' : k, v] as const)
      .filter(([k]) => (CLI_KEYS as string[]).includes(k)),
  );
  const fileSettings = typeof configFile === 'string' ? await readConfigFile(configFile) : {};
  // Every setting is checked here, before any model is built or data is read.
  const config = resolveCliConfig(fileSettings, configFromEnv(process.env), flagSettings);

  let model;
  try {
    model = getModel(config.model);
  } catch {
    throw new CliUsageError(`--model: unknown model "${config.model}"; registered models: ${registeredModels().join(', ') || 'none'}`);
  }
  // The catalogue file names the model's rows: its length is the model's numItems.
  let catalogue;
  if (config.catalogue) {
    try {
      catalogue = await readCatalogueFile(config.catalogue);
    } catch (err) {
      throw new CliUsageError(`--catalogue ${config.catalogue}: ${err instanceof Error ? err.message : String(err)}`);
    }
    config.modelOptions = { ...config.modelOptions, numItems: catalogue.length };
  }
  const logger = createCliLogger(config.logLevel, config.logFormat);
  // Before anything is allocated: the update workers, started later, run with it too.
  setHeapGrowingPercent(config.heapGrowingPercent);
  const initialWeights = model.initialWeights(modelSpecOf(config).options, config.seed);
  // The CLI serves the live dashboard at / (bundles built by `npm run build:browser`, run before `npm start`).
  // Only --redis loads anything of Redis (a dynamic import): a plain start has no Redis module in memory.
  const cluster = config.redis !== undefined ? await joinCluster(config.redis, config, logger) : undefined;
  const coordinator = createCoordinator({
    ...coordinatorOptionsFromCli(config, initialWeights, logger),
    ...(cluster ? { cluster } : {}),
    ...(await securityFilesFromCli(config)),
    ...(catalogue ? { catalogue } : {}),
    extensions: [dashboardExtension()],
  });

  process.on('unhandledRejection', (reason) => logger.error(errorFields(reason), 'unhandled rejection (kept running)'));
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    coordinator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(errorFields(err), 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  coordinator.on('training:finished', () => logger.info('training finished; still serving the model (Ctrl-C to stop)'));

  let url: string;
  try {
    ({ url } = await coordinator.start());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliUsageError(
        `--port ${config.port}: the port is in use on ${config.host}; stop what holds it or pick another port (--port 0 picks a free one)`,
      );
    }
    throw err;
  }
  if (config.rollbackTo !== undefined) {
    const r = await coordinator.rollback(config.rollbackTo, 'operator (--rollback-to)');
    logger.warn({ ...r, weightsOf: config.rollbackTo }, 'rolled back at start');
  }
  const urls = serviceUrls(url, config);
  logger.info(
    { url, ...urls, model: config.model, fingerprint: coordinator.status().fingerprint },
    // The message stays fixed for whoever waits on it; pino-pretty prints each URL on its own line.
    'fedrec coordinator ready',
  );
  if (config.operatorToken === undefined) {
    logger.warn(
      { hint: `${envName('operatorToken')}=$(openssl rand -hex 24) npm start  (or --operator-token)` },
      'no operator token: the dashboard, /api/rounds and /metrics are open to anyone and show client pseudonyms; set one to restrict them to operators',
    );
  }
}

const verbose = process.argv.includes('--verbose');
main().catch((err: unknown) => {
  // A usage mistake is the operator's to fix and says how; anything else is a bug worth its stack with --verbose.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`fedrec-coordinator: ${message}`);
  if (verbose && err instanceof Error && err.stack) console.error(err.stack);
  else if (!(err instanceof CliUsageError)) console.error('(run with --verbose for the stack trace)');
  process.exit(1);
});
