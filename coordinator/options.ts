import { z } from 'zod';
import { DEFAULT_TRAINING_CONFIG, manifestSchema, modelSpecSchema, sharedSize, trainingConfigSchema } from '@fedrec/protocol';
import type { Weights } from '@fedrec/protocol';
import type { CoordinatorExtension } from './extension.js';
import type { FitCollector } from './fit-collector.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { PlainFitCollector } from './plain-fit-collector.js';
import { SECAGG_MODES, MAX_SHARES, secAggConfigSchema } from '@fedrec/protocol';
import { SecAggFitCollector } from './secagg-fit-collector.js';
import { FedAvg } from './strategy/fedavg.js';
import type { Strategy } from './strategy/strategy.js';

const MiB = 1024 * 1024;

const weightsSchema = z
  .object({ manifest: manifestSchema, body: z.custom<Float32Array>((v) => v instanceof Float32Array, 'body must be a Float32Array') })
  .refine((w) => w.body.length === sharedSize(w.manifest), 'initialWeights.body length must equal sharedSize(manifest)')
  .transform((w): Weights => w);

const hasMethods =
  (...names: string[]) =>
  (v: unknown) =>
    typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

/** Secure-aggregation settings besides the mode (secagg/config.ts), plus the deadlines of the short stages. */
export const secAggSettingsSchema = secAggConfigSchema.omit({ mode: true }).extend({
  /** Stage 0 (clients answer the masked fit task with fresh public keys); capped by the round deadline. */
  advertiseTimeoutMs: z.number().int().min(1).default(10_000),
  /** Stage 1 (clients answer the roster with encrypted Shamir shares); capped by the round deadline. */
  shareKeysTimeoutMs: z.number().int().min(1).default(10_000),
  /** Stage 3 (survivors reveal shares), after the masked inputs close. Stage 2 waits for training: roundTimeoutMs. */
  unmaskTimeoutMs: z.number().int().min(1).default(10_000),
});

/** Every coordinator setting, with units in the names and a default for everything but the model. */
export const coordinatorOptionsSchema = z.object({
  /** TCP port for REST and Socket.IO (0 = any free port). */
  port: z.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  /** Rounds start once this many clients are connected. */
  minClients: z.number().int().min(1).default(1),
  /** Clients per round: an integer count (>= 1), a fraction in (0, 1) of those connected, or 'all'. */
  clientsPerRound: z.union([z.literal('all'), z.number().int().min(1), z.number().gt(0).lt(1)]).default('all'),
  /** How long a round waits for fit (and evaluate) answers. */
  roundTimeoutMs: z.number().int().min(1).default(60_000),
  /** Fewest accepted fit results that commit a round; below it the round is abandoned and retried. */
  minResults: z.number().int().min(1).default(1),
  /** Pause before retrying after an abandoned round. */
  retryDelayMs: z.number().int().min(0).default(1_000),
  /** Pause between committed rounds (an always-on service need not train back to back). */
  roundIntervalMs: z.number().int().min(0).default(0),
  /** Stop once this many rounds have committed in total (counted across restarts), or never. */
  rounds: z.union([z.number().int().min(1), z.literal('continuous')]).default('continuous'),
  /** Run an evaluation round after every k-th commit (0 = never). */
  evaluateEvery: z.number().int().min(0).default(0),
  trainingConfig: trainingConfigSchema.default(DEFAULT_TRAINING_CONFIG),
  modelSpec: modelSpecSchema,
  /** Starting shared weights (ignored when a checkpoint is resumed). */
  initialWeights: weightsSchema,
  /** Where checkpoints (and by default the key file) live; none = in memory only. */
  checkpointDir: z.string().min(1).optional(),
  /** How many checkpoints to keep. */
  keepCheckpoints: z.number().int().min(1).default(3),
  /** X25519 key pair file; default checkpointDir/coordinator-key.json, or an ephemeral key without either. */
  keyFile: z.string().min(1).optional(),
  /** When set, clients must present this token in the handshake. */
  authToken: z.string().min(1).optional(),
  /** Largest sealed update accepted, in bytes. */
  maxUpdateBytes: z
    .number()
    .int()
    .min(64)
    .default(64 * MiB),
  maxExamplesPerUpdate: z.number().positive().default(1e9),
  /** Round records kept in memory, in checkpoints and in /api/rounds. */
  historyLimit: z.number().int().min(1).default(1000),
  /** Used by the default FedAvg strategy (an injected strategy carries its own). */
  serverLearningRate: z.number().positive().finite().default(1),
  /**
   * Socket.IO heartbeat: a ping every pingIntervalMs, and a client that has not answered within
   * pingTimeoutMs more is dropped (Socket.IO's defaults: 25 000 and 20 000).
   */
  pingIntervalMs: z.number().int().min(1).optional(),
  pingTimeoutMs: z.number().int().min(1).optional(),
  /** Origins allowed for browser clients (Socket.IO and REST); none = same origin only. */
  corsOrigin: z.union([z.string(), z.array(z.string())]).optional(),
  /** 'off' = sealed FedAvg (the coordinator opens each delta); 'secagg' = all-pairs masks (at most 255 clients a round); 'secagg+' = k-regular neighbour masks. */
  secureAggregation: z.enum(SECAGG_MODES).default('off'),
  /** Settings used when secureAggregation is on. */
  secAgg: secAggSettingsSchema.default(secAggSettingsSchema.parse({})),
  strategy: z
    .custom<Strategy>(hasMethods('configureFit', 'aggregateFit', 'configureEvaluate', 'aggregateEvaluate'), 'strategy must implement Strategy')
    .optional(),
  fitCollector: z.custom<FitCollector>(hasMethods('collect'), 'fitCollector must implement FitCollector').optional(),
  logger: z.custom<Logger>(hasMethods('info', 'warn', 'error', 'debug', 'child'), 'logger must be pino-compatible').optional(),
  /** Add-ons attached at start (dashboard, demo pages): extra HTTP routes and Socket.IO namespaces. */
  extensions: z.array(z.custom<CoordinatorExtension>(hasMethods('attach'), 'extension must have attach()')).default([]),
});

/** What callers pass to createCoordinator: everything optional except the model. */
export type CoordinatorOptions = z.input<typeof coordinatorOptionsSchema>;

export type ResolvedOptions = Omit<z.output<typeof coordinatorOptionsSchema>, 'strategy' | 'fitCollector' | 'logger'> & {
  strategy: Strategy;
  fitCollector: FitCollector;
  logger: Logger;
};

/** Validates options once, at the edge, and fills in the injected defaults. */
export function parseCoordinatorOptions(input: CoordinatorOptions): ResolvedOptions {
  const parsed = coordinatorOptionsSchema.safeParse(input);
  if (!parsed.success) throw new TypeError(`invalid coordinator options: ${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  if (o.minResults > o.minClients && o.clientsPerRound === 'all') {
    // Not an error (more clients may connect), but the first rounds would abandon: worth saying.
    (o.logger ?? silentLogger).warn({ minResults: o.minResults, minClients: o.minClients }, 'minResults exceeds minClients');
  }
  if (o.secureAggregation !== 'off' && o.fitCollector)
    throw new TypeError('invalid coordinator options: set either fitCollector or secureAggregation, not both');
  // GF(2^8) Shamir caps a sharing group at 255: full SecAgg shares with every other client of the round.
  const roundSize = typeof o.clientsPerRound === 'number' && o.clientsPerRound >= 1 ? o.clientsPerRound : o.minClients;
  if (o.secureAggregation === 'secagg' && roundSize > MAX_SHARES) {
    throw new TypeError(
      `invalid coordinator options: secureAggregation 'secagg' supports at most ${MAX_SHARES} clients per round (GF(2^8) Shamir); use 'secagg+'`,
    );
  }
  return {
    ...o,
    strategy: o.strategy ?? new FedAvg({ serverLearningRate: o.serverLearningRate }),
    fitCollector: o.fitCollector ?? defaultCollector(o.secureAggregation, o.secAgg),
    logger: o.logger ?? silentLogger,
  };
}

/** How many clients a round asks for, given how many are connected. */
export function resolveSampleSize(clientsPerRound: ResolvedOptions['clientsPerRound'], connected: number): number {
  if (clientsPerRound === 'all') return connected;
  if (clientsPerRound < 1) return Math.min(connected, Math.max(1, Math.ceil(clientsPerRound * connected)));
  return Math.min(connected, clientsPerRound);
}

/** Sealed FedAvg, or secure aggregation in the chosen mode. */
function defaultCollector(mode: (typeof SECAGG_MODES)[number], settings: z.output<typeof secAggSettingsSchema>): FitCollector {
  if (mode === 'off') return new PlainFitCollector();
  const { advertiseTimeoutMs, shareKeysTimeoutMs, unmaskTimeoutMs, ...rest } = settings;
  return new SecAggFitCollector({ config: { mode, ...rest }, advertiseTimeoutMs, shareKeysTimeoutMs, unmaskTimeoutMs });
}
