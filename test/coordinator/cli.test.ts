import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { configFromEnv, DEFAULT_ROUND_INTERVAL_MS, envName, flagName, resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { DEFAULT_CATALOGUE_SIZE, resolveModelSpec } from '@fedrec/coordinator-cli/default-model.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { cliDefaults } from '@fedrec/coordinator-cli/help-defaults.js';
import { registeredModels } from '@fedrec/models/registry.js';
import { recsysModelSpec, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { setHeapGrowingPercent } from '@fedrec/coordinator/heap-growth.js';
import { STRATEGY_NAMES } from '@fedrec/coordinator/strategy/registry.js';
import { connectFakeClient, initialWeights, tempDir } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('coordinator: CLI configuration', () => {
  it('applies precedence flags > env > file > defaults', () => {
    const file = { port: 7000, minClients: 4, rounds: 10, model: 'logistic', modelOptions: { features: 3 } };
    const env = configFromEnv({ PORT: '7100', FEDREC_MIN_CLIENTS: '5', FEDREC_SERVER_LEARNING_RATE: '2' });
    const flags = { port: '7200' };
    const config = resolveCliConfig(file, env, flags);
    assert.equal(config.port, 7200);
    assert.equal(config.minClients, 5);
    assert.equal(config.serverLearningRate, 2);
    assert.equal(config.rounds, 10);
    assert.deepEqual(config.modelOptions, { features: 3 });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(resolveCliConfig({}, {}, {}).port, 8080);
    assert.equal(resolveCliConfig(configFromEnv({ PORT: '9000', FEDREC_PORT: '9001' })).port, 9001);
  });

  it('parses rounds, fractions and JSON options from strings, and names env vars predictably', () => {
    const config = resolveCliConfig({ rounds: 'continuous', clientsPerRound: '0.25', modelOptions: '{"features":2}' });
    assert.equal(config.rounds, 'continuous');
    assert.equal(config.clientsPerRound, 0.25);
    assert.deepEqual(config.modelOptions, { features: 2 });
    assert.equal(envName('roundTimeoutMs'), 'FEDREC_ROUND_TIMEOUT_MS');
  });

  it('refuses bad values and unknown keys with a clear message', () => {
    assert.throws(() => resolveCliConfig({ minClients: 'zero' }), /minClients/);
    assert.throws(() => resolveCliConfig({ strategy: 'fedprox' }), /strategy/);
    assert.throws(() => resolveCliConfig({ prot: 80 }), /unknown setting\(s\): prot/);
  });

  it("takes --heap-growing-percent (default 300, 0 = V8's own) from flags or env, within 0..1000, and keeps it out of the coordinator options", () => {
    assert.equal(resolveCliConfig({}).heapGrowingPercent, 300);
    assert.equal(resolveCliConfig({}, configFromEnv({ FEDREC_HEAP_GROWING_PERCENT: '0' })).heapGrowingPercent, 0);
    assert.equal(resolveCliConfig({}, {}, { heapGrowingPercent: '150' }).heapGrowingPercent, 150);
    assert.throws(() => resolveCliConfig({ heapGrowingPercent: -1 }), /heapGrowingPercent/);
    assert.throws(() => resolveCliConfig({ heapGrowingPercent: 1001 }), /heapGrowingPercent/);
    assert.ok(
      !('heapGrowingPercent' in coordinatorOptionsFromCli(resolveCliConfig({}), initialWeights(), silentLogger)),
      'a process setting, not a coordinator option',
    );
    assert.throws(() => setHeapGrowingPercent(1.5), RangeError);
  });

  it('takes every registered strategy by name, with its options validated against the registry schema', () => {
    for (const strategy of STRATEGY_NAMES) {
      const options = coordinatorOptionsFromCli(resolveCliConfig({ strategy }), initialWeights(), silentLogger);
      assert.equal(options.strategy?.name, strategy);
    }
    const config = resolveCliConfig({ strategy: 'fedadam' }, configFromEnv({ FEDREC_STRATEGY_OPTIONS: '{"eta":0.1,"beta2":0.999}' }));
    assert.deepEqual(config.strategyOptions, { eta: 0.1, beta2: 0.999 });
    assert.throws(() => resolveCliConfig({ strategy: 'fedadam', strategyOptions: { beta1: 2 } }), /strategyOptions[\s\S]*beta1|beta1[\s\S]*strategyOptions/);
    assert.throws(() => resolveCliConfig({ strategy: 'fedavg', strategyOptions: { eta: 1 } }), /strategy fedavg/);
    // The flat shorthands still reach the strategies that have them, and only those.
    assert.doesNotThrow(() => resolveCliConfig({ strategy: 'fedadam', serverLearningRate: 2, momentum: 0.5 }));
    assert.throws(() => resolveCliConfig({ strategy: 'fedavgm', momentum: 1 }), /momentum/);
  });

  it('sends the client lr schedule and FedProx μ as round config, and hands the server schedule to the strategy', async () => {
    const config = resolveCliConfig(
      { strategy: 'fedyogi', learningRate: 0.4 },
      configFromEnv({ FEDREC_CLIENT_LR_SCHEDULE: 'step:1:0.5', FEDREC_PROXIMAL_MU: '0.01', FEDREC_SERVER_LR_SCHEDULE: 'cosine:50' }),
    );
    assert.equal(config.serverLrSchedule, 'cosine:50');
    const options = coordinatorOptionsFromCli(config, initialWeights(), silentLogger);
    const args = {
      roundId: 3,
      modelVersion: 2,
      global: initialWeights(),
      clients: [{ clientId: 'a', connectedAt: 0 }],
      sampleSize: 1,
      config: options.trainingConfig!,
    };
    const [fit] = await options.strategy!.configureFit(args);
    assert.equal(fit!.config.learningRate, 0.1, 'round 3 of step:1:0.5 is a quarter of 0.4');
    assert.equal(fit!.config.proximalMu, 0.01);
    assert.throws(() => resolveCliConfig({ clientLrSchedule: 'sometimes' }), /--client-lr-schedule[\s\S]*unknown kind/);
    assert.throws(() => resolveCliConfig({ proximalMu: '-1' }), /--proximal-mu/);
    assert.throws(() => resolveCliConfig({ strategy: 'fedavgm', serverLrSchedule: 'step:0:1' }), /EVERY/);
  });

  it("sends --negative-exclusion as the devices' round config (extra.negativeExclusion), over --training-extra, and refuses unknown modes", async () => {
    const fitExtra = async (config: ReturnType<typeof resolveCliConfig>) => {
      const options = coordinatorOptionsFromCli(config, initialWeights(), silentLogger);
      const clients = [{ clientId: 'a', connectedAt: 0 }];
      const [fit] = await options.strategy!.configureFit({
        roundId: 0,
        modelVersion: 0,
        global: initialWeights(),
        clients,
        sampleSize: 1,
        config: options.trainingConfig!,
      });
      return fit!.config.extra;
    };
    const strict = await fitExtra(
      resolveCliConfig({ trainingExtra: '{"negatives":4,"negativeExclusion":"none"}' }, configFromEnv({ FEDREC_NEGATIVE_EXCLUSION: 'validation' })),
    );
    assert.deepEqual(strict, { negatives: 4, negativeExclusion: 'validation' });
    const unset = await fitExtra(resolveCliConfig({}));
    assert.equal(unset['negativeExclusion'], undefined, "without the flag the trainer's default (held-out) applies");
    assert.ok('negatives' in unset, "the recommender's own extra settings stay");
    assert.throws(() => resolveCliConfig({ negativeExclusion: 'test' }), /--negative-exclusion/);
  });
});

describe('coordinator: CLI process', () => {
  it('starts from a config file, trains a registered model with a client, and exits cleanly on SIGTERM', async function () {
    this.timeout(30_000);
    const { dir, remove } = await tempDir();
    const configFile = join(dir, 'config.json');
    // Plain mode: one fake client (secure aggregation, the default, needs three).
    await writeFile(
      configFile,
      JSON.stringify({ model: 'logistic', modelOptions: { features: 3 }, rounds: 1, checkpointDir: join(dir, 'ckpt'), secureAggregation: 'off' }),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/coordinator-cli/cli.ts', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const logs: Array<Record<string, unknown>> = [];
      const url = await new Promise<string>((resolve, reject) => {
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry['msg'] === 'fedrec coordinator ready') resolve(String(entry['url']));
        });
        void exited.then((code) => reject(new Error(`CLI exited early (${code}): ${stderr}`)));
      });
      const client = await connectFakeClient(url, {
        clientId: 'cli-client',
        // logistic with 3 features shares kernel [3,1] and bias [1]: 4 floats, no rowwise tensors.
        fit: () => ({ kind: 'update', payload: { numExamples: 2, metrics: {}, delta: Float32Array.from([1, 1, 1, 1]) } }),
      });
      const status = async () => (await (await fetch(`${url}/api/status`)).json()) as { modelVersion: number; modelSpec: { name: string } };
      const started = Date.now();
      while ((await status()).modelVersion < 1 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await status()).modelVersion, 1);
      assert.equal((await status()).modelSpec.name, 'logistic');
      assert.ok(logs.some((l) => l['msg'] === 'coordinator listening' && typeof l['fingerprint'] === 'string'));
      client.close();
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await remove();
    }
  });

  it('--help lists every registered strategy with its description', async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/coordinator-cli/cli.ts', '--help'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    for (const name of STRATEGY_NAMES) assert.match(stdout, new RegExp(`^  ${name} +\\S`, 'm'), `${name} in --help`);
    // The registered models, from the model registry, and the defaults that apply when nothing is set.
    assert.match(stdout, new RegExp(`^Models \\(--model\\): ${registeredModels().join(', ')}$`, 'm'));
    const flat = stdout.replace(/\s+/g, ' ');
    const defaults = cliDefaults();
    for (const key of ['port', 'model', 'rounds', 'roundIntervalMs', 'minClients', 'clientsPerRound', 'batchSize', 'learningRate', 'strategy'] as const) {
      assert.ok(flat.includes(`(default: ${defaults[key]})`), `--help shows the default of ${key} (${defaults[key]})`);
    }
    assert.equal(defaults.model, 'neumf');
    assert.equal(defaults.port, '8080');
    assert.equal(defaults.roundIntervalMs, String(DEFAULT_ROUND_INTERVAL_MS));
    assert.equal(defaults.batchSize, String(recsysTrainingConfig().batchSize), 'the recommender gets recsys/defaults.ts');
  });

  it('names the flag of every bad setting, before building any model, without a stack trace', async function () {
    this.timeout(60_000);
    const cases: Array<[string[], RegExp]> = [
      [
        ['--clients-per-round', 'lots'],
        /^fedrec-coordinator: --clients-per-round \(clientsPerRound, env FEDREC_CLIENTS_PER_ROUND\): expected a count >= 1, a fraction in \(0, 1\) or "all" \(got "lots"\)$/m,
      ],
      [['--model-options', '{x'], /^fedrec-coordinator: --model-options \(modelOptions, env FEDREC_MODEL_OPTIONS\): not valid JSON/m],
      [['--config', '/no/such/file.json'], /^fedrec-coordinator: --config \/no\/such\/file\.json: cannot read it \(ENOENT\)$/m],
      [['--log-format', 'xml'], /^fedrec-coordinator: --log-format \(logFormat, env FEDREC_LOG_FORMAT\): /m],
    ];
    const runs = cases.map(async ([args, expected]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'apps/coordinator-cli/cli.ts', ...args, '--port', '0'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 1, args.join(' '));
      assert.match(stderr, expected);
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
      assert.equal(stdout, '', 'nothing started: not even the logger wrote');
    });
    await Promise.all(runs);
  });

  it('settings name their flag in the error even when they come from a file or the environment', () => {
    assert.throws(
      () => resolveCliConfig({ rounds: 'forever' }),
      /--rounds \(rounds, env FEDREC_ROUNDS\): expected a whole number >= 1 or "continuous" \(got "forever"\)/,
    );
    assert.throws(() => resolveCliConfig(configFromEnv({ FEDREC_MODEL_OPTIONS: 'nope' })), /--model-options .*not valid JSON/);
    assert.equal(flagName('serverLearningRate'), '--server-lr');
    assert.equal(flagName('secaggStageTimeoutMs'), '--secagg-stage-timeout-ms');
  });

  it('fills in the recommender by default: npm start with no flags trains NeuMF on the default catalogue with recsys/defaults.ts', () => {
    const config = resolveCliConfig({});
    const options = coordinatorOptionsFromCli(config, initialWeights(), silentLogger);
    assert.equal(options.modelSpec.name, 'neumf');
    assert.equal(options.modelSpec.options['numItems'], DEFAULT_CATALOGUE_SIZE);
    assert.deepEqual(options.trainingConfig, recsysTrainingConfig());
    assert.equal(options.roundIntervalMs, DEFAULT_ROUND_INTERVAL_MS);
    // An option the operator gives wins; the rest keep the recommender's defaults.
    const sized = resolveModelSpec('neumf', { numItems: 1682 });
    assert.deepEqual(sized.options, { ...recsysModelSpec(1682).options });
    assert.deepEqual(resolveModelSpec('logistic', { features: 3 }), { name: 'logistic', options: { features: 3 } });
    // The seq model gets the options `simulate --model seq` trains (tied etc.), under any the operator gives.
    assert.deepEqual(resolveModelSpec('seq', { seqLen: 3 }).options, { ...seqModelOptions(DEFAULT_CATALOGUE_SIZE), seqLen: 3 });
  });

  it('fails with a clear message for an unknown model', async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/coordinator-cli/cli.ts', '--model', 'no-such-model', '--port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(stderr, /unknown model "no-such-model"/);
  });
});
