import { DEFAULT_TRAINING_CONFIG } from '@fedrec/protocol';
import type { ModelSpec, Weights } from '@fedrec/protocol';
import { secureAggregationOf, strategyOptionsOf, type CliConfig } from './cli-config.js';
import type { Logger } from '@fedrec/coordinator/logger.js';
import type { CoordinatorOptions } from '@fedrec/coordinator/options.js';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { withRoundConfig } from '@fedrec/coordinator/strategy/round-config.js';
import { defaultTrainingConfigFor, resolveModelSpec } from './default-model.js';
import { modelTrainingDefaults } from '@fedrec/models/registry.js';
import { PRIVACY_PRESET_TABLE, privacyPresetOptions } from '@fedrec/coordinator/privacy/presets.js';

/** The model the settings name, with the default options filled in (see default-model.ts). */
export function modelSpecOf(config: Pick<CliConfig, 'model' | 'modelOptions'>): ModelSpec {
  return resolveModelSpec(config.model, config.modelOptions);
}

/** Turns validated CLI settings plus the model's initial weights into coordinator options. */
export function coordinatorOptionsFromCli(config: CliConfig, initialWeights: Weights, logger: Logger): CoordinatorOptions {
  const modelSpec = modelSpecOf(config);
  // A recommender gets recsys/defaults.ts's client settings; flags override each one.
  const training = defaultTrainingConfigFor(config.model) ?? DEFAULT_TRAINING_CONFIG;
  // A model that registers its own client lr schedule (the seq model) gets it unless the flag says otherwise.
  const clientLrSchedule = config.clientLrSchedule ?? modelTrainingDefaults(config.model).clientLrSchedule;
  const preset = config.privacy === 'off' ? undefined : PRIVACY_PRESET_TABLE[config.privacy];
  const serverLearningRate = config.serverLearningRate ?? preset?.serverLearningRate ?? 1;
  // serverLearningRate defaults to 1 for the strategies that take it, as the coordinator's own FedAvg does.
  // The client lr schedule and FedProx's μ travel in each round's fit config.
  const strategy = withRoundConfig(createStrategy(config.strategy, strategyOptionsOf({ ...config, serverLearningRate })), {
    ...(clientLrSchedule !== undefined ? { clientLrSchedule } : {}),
    ...(config.proximalMu !== undefined ? { proximalMu: config.proximalMu } : {}),
  });
  // A privacy preset samples a fraction of the clients each round unless --clients-per-round says otherwise.
  const presetSampling = preset?.clientsPerRound !== undefined && config.clientsPerRound === undefined ? { clientsPerRound: preset.clientsPerRound } : {};
  const privacy = privacyFromCli(config);
  const pick = <K extends keyof CliConfig>(...keys: K[]) => Object.fromEntries(keys.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  return {
    ...pick(
      'port',
      'host',
      'rounds',
      'minClients',
      'clientsPerRound',
      'roundTimeoutMs',
      'minResults',
      'retryDelayMs',
      'roundIntervalMs',
      'evaluateEvery',
      'checkpointDir',
      'keepCheckpoints',
      'keyFile',
      'authToken',
      'maxUpdateBytes',
      'updateWorkers',
      'maxUpdatesInFlight',
      'uploadBudgetBytes',
      'uploadSlotHoldMs',
      'operatorToken',
      'enrolmentKey',
      'trustProxy',
      'handshakeTimeoutMs',
      'maxMetricKeys',
      'maxConnectionsPerAddress',
      'maxHandshakesPerSecond',
      'logLinesPerClientPerMinute',
      'corsOrigin',
    ),
    ...presetSampling,
    serverLearningRate,
    trainingConfig: {
      localEpochs: config.localEpochs ?? training.localEpochs,
      batchSize: config.batchSize ?? training.batchSize,
      learningRate: config.learningRate ?? training.learningRate,
      optimizer: config.optimizer ?? training.optimizer,
      // --negative-exclusion is one key of the trainer's extra settings; the flag wins over --training-extra's.
      extra: {
        ...(config.trainingExtra ?? training.extra),
        ...(config.negativeExclusion !== undefined ? { negativeExclusion: config.negativeExclusion } : {}),
      },
    },
    modelSpec,
    initialWeights,
    updatePolicy: updatePolicyFromCli(config),
    ...(config.autoRollback !== undefined ? { rollback: { auto: config.autoRollback } } : {}),
    ...privacy,
    // Secure aggregation needs 3 devices a round (a sum of 2 reveals each to the other): wait for them unless told.
    ...(privacy.secureAggregation !== 'off' && config.minClients === undefined ? { minClients: 3 } : {}),
    mode: config.mode,
    buffered: Object.fromEntries(
      (
        [
          ['bufferSize', config.bufferSize],
          ['maxStaleness', config.maxStaleness],
          ['staleness', config.staleness],
          ['concurrency', config.concurrency],
        ] as const
      ).filter(([, v]) => v !== undefined),
    ),
    compression: config.compression,
    strategy,
    logger,
  } as CoordinatorOptions;
}

/**
 * --privacy's preset: the secure-aggregation mode (an explicit --secure-aggregation wins; off makes the noise
 * central), DP (with --dp-clip) and the secagg weights.
 */
function privacyFromCli(config: CliConfig): { secureAggregation: string } & Record<string, unknown> {
  const secAgg = secAggFromCli(config);
  if (config.privacy === 'off') return { secureAggregation: secureAggregationOf(config), secAgg };
  const preset = privacyPresetOptions(config.privacy, { secureAggregation: config.secureAggregation, clip: config.dpClip });
  return { secureAggregation: preset.secureAggregation, privacy: preset.privacy, secAgg: { ...preset.secAgg, ...secAgg } };
}

/** --norm-bound, --norm-bound-multiplier, --norm-bound-quantile and --weight-cap as the coordinator's updatePolicy. */
function updatePolicyFromCli(config: CliConfig): Record<string, unknown> {
  const nb = config.normBound ?? 'adaptive';
  const wc = config.weightCap ?? 'adaptive';
  const adaptive = Object.fromEntries(
    [
      ['multiplier', config.normBoundMultiplier],
      ['quantile', config.normBoundQuantile],
    ].filter(([, v]) => v !== undefined),
  );
  return {
    normBound: nb === 'off' ? 'off' : nb === 'adaptive' ? { mode: 'adaptive', ...adaptive } : { mode: 'fixed', value: nb },
    weightCap: wc === 'off' ? 'off' : wc === 'adaptive' ? { mode: 'adaptive' } : { mode: 'fixed', value: wc },
  };
}

/** The flat secagg flags as the coordinator's nested secAgg settings (unset ones keep their defaults). */
function secAggFromCli(config: CliConfig): Record<string, unknown> {
  const t = config.secaggStageTimeoutMs;
  const entries: Array<[string, unknown]> = [
    ['threshold', config.secaggThreshold],
    ['dropoutRate', config.secaggDropoutRate],
    ['corruptionRate', config.secaggCorruptionRate],
    ['neighbours', config.secaggNeighbours],
    ['clipRange', config.clipRange],
    ['quantizationBits', config.quantizationBits],
    ['maxWeight', config.secaggMaxWeight],
    ['normBound', config.secaggNormBound],
    ['advertiseTimeoutMs', t],
    ['shareKeysTimeoutMs', t],
    ['unmaskTimeoutMs', t],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}
