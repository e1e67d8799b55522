import { coordinatorOptionsSchema, secAggSettingsSchema } from '@fedrec/coordinator/options.js';
import { DEFAULT_SECURE_AGGREGATION, cliConfigSchema, type CliKey } from './cli-config.js';
import { modelSpecOf } from './cli-options.js';
import { DEFAULT_MODEL_NAME, defaultTrainingConfigFor } from './default-model.js';

/** The secagg flags' names in the coordinator's nested secAgg settings. */
const SECAGG_KEYS: Partial<Record<CliKey, string>> = {
  secaggThreshold: 'threshold',
  secaggNeighbours: 'neighbours',
  clipRange: 'clipRange',
  quantizationBits: 'quantizationBits',
  secaggMaxWeight: 'maxWeight',
  secaggStageTimeoutMs: 'advertiseTimeoutMs',
};

/** Settings whose default is not a single value of a schema: said in words. */
const IN_WORDS: Partial<Record<CliKey, string>> = {
  keyFile: '<checkpoint-dir>/coordinator-key.json, or a fresh key each start without a checkpoint dir',
  checkpointDir: 'none (in memory only)',
  authToken: 'none (any client may join)',
  corsOrigin: 'none (same origin only)',
  strategyOptions: "the strategy's defaults (see Strategies below)",
  momentum: "the strategy's default",
  serverLrSchedule: 'constant',
  clientLrSchedule: 'constant',
  proximalMu: '0 (off)',
  negativeExclusion: "held-out (the device trainer's default)",
  dpClip: "fixed (the preset's clip norm)",
};

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * What each setting is when nothing sets it, read from the schemas that apply it (the CLI's own,
 * then the coordinator's, then the default model's training settings), so --help cannot drift from them.
 */
export function cliDefaults(): Partial<Record<CliKey, string>> {
  const out: Partial<Record<CliKey, string>> = {};
  const cli = cliConfigSchema.parse({});
  const coordinator = coordinatorOptionsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  const secagg = secAggSettingsSchema.parse({}) as Record<string, unknown>;
  const training = defaultTrainingConfigFor(DEFAULT_MODEL_NAME);
  const trainingByKey: Partial<Record<CliKey, unknown>> = training
    ? {
        localEpochs: training.localEpochs,
        batchSize: training.batchSize,
        learningRate: training.learningRate,
        optimizer: training.optimizer,
        trainingExtra: training.extra,
      }
    : {};
  for (const key of Object.keys(cliConfigSchema.shape) as CliKey[]) {
    const own = (cli as Record<string, unknown>)[key];
    const fromCoordinator = coordinator[key]?.safeParse(undefined);
    const secaggKey = SECAGG_KEYS[key];
    const value =
      key === 'modelOptions'
        ? `${show(modelSpecOf(cli).options)} for ${DEFAULT_MODEL_NAME} (any option left out keeps this value)`
        : key === 'serverLearningRate'
          ? 1
          : key === 'secureAggregation'
            ? DEFAULT_SECURE_AGGREGATION // left unset in the CLI schema so a preset can tell an explicit off
            : own !== undefined
              ? own
              : trainingByKey[key] !== undefined
                ? trainingByKey[key]
                : fromCoordinator?.success && fromCoordinator.data !== undefined
                  ? fromCoordinator.data
                  : secaggKey !== undefined && secagg[secaggKey] !== undefined
                    ? secagg[secaggKey]
                    : undefined;
    const words = IN_WORDS[key];
    if (words !== undefined && (value === undefined || typeof value === 'object')) out[key] = words;
    else if (value !== undefined) out[key] = show(value);
    else if (words !== undefined) out[key] = words;
  }
  return out;
}
