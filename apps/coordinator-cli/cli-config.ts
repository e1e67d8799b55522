import { z } from 'zod';
import { STRATEGY_NAMES, parseStrategyOptions, withShorthands } from '@fedrec/coordinator/strategy/registry.js';
import { lrScheduleSpec } from '@fedrec/coordinator/strategy/lr-schedule.js';
import { DEFAULT_MODEL_NAME } from './default-model.js';
import { PRIVACY_PRESETS, type DpClipChoice } from '@fedrec/coordinator/privacy/presets.js';
import { parseStalenessPolicy } from '@fedrec/coordinator/buffered/staleness.js';
import { NEGATIVE_EXCLUSIONS } from '@fedrec/recsys/split.js';
import { DEFAULT_HEAP_GROWING_PERCENT } from '@fedrec/coordinator/heap-growth.js';

/**
 * The CLI's settings, flat so that flags, env vars and a JSON file can all name them.
 * Sources are merged with flags > env > file > defaults, then parsed once here.
 */
const jsonRecord = z.preprocess(
  (v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch (err) {
      // JSON.parse's own message names no setting; the issue's path does (see cliErrorMessage).
      ctx.addIssue({ code: 'custom', message: `not valid JSON (${err instanceof Error ? err.message : String(err)}): ${v}`, input: v });
      return z.NEVER;
    }
  },
  z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
);
const int = z.coerce.number().int();

/** Pause between committed rounds when `npm start` is not told otherwise. */
export const DEFAULT_ROUND_INTERVAL_MS = 1000;

export const cliConfigSchema = z
  .object({
    port: int.min(0).max(65535).default(8080),
    host: z.string().min(1).default('0.0.0.0'),
    /** The recommender unless told otherwise (default-model.ts decides, and fills in its options). */
    model: z.string().min(1).default(DEFAULT_MODEL_NAME),
    modelOptions: jsonRecord.default({}),
    /** Seed for the initial weights. */
    seed: int.default(42),
    rounds: z
      .preprocess(
        (v) => (v === 'continuous' ? v : typeof v === 'string' ? Number(v) : v),
        z.union([z.literal('continuous'), z.number().int().min(1)], { error: 'expected a whole number >= 1 or "continuous"' }),
      )
      .default('continuous'),
    minClients: int.min(1).optional(),
    clientsPerRound: z
      .preprocess(
        (v) => (v === 'all' ? v : typeof v === 'string' ? Number(v) : v),
        z.union([z.literal('all'), z.number().positive()], { error: 'expected a count >= 1, a fraction in (0, 1) or "all"' }),
      )
      .optional(),
    roundTimeoutMs: int.min(1).optional(),
    minResults: int.min(1).optional(),
    retryDelayMs: int.min(0).optional(),
    /** A service need not train back to back: one round a second unless told otherwise. */
    roundIntervalMs: int.min(0).default(DEFAULT_ROUND_INTERVAL_MS),
    /** Evaluate every few commits so the dashboard shows HR@10 from the start. */
    evaluateEvery: int.min(0).default(5),
    checkpointDir: z.string().min(1).optional(),
    keepCheckpoints: int.min(1).optional(),
    keyFile: z.string().min(1).optional(),
    authToken: z.string().min(1).optional(),
    maxUpdateBytes: int.min(64).optional(),
    updateWorkers: int.min(0).optional(),
    maxUpdatesInFlight: int.min(1).optional(),
    uploadBudgetBytes: int.min(0).optional(),
    uploadSlotHoldMs: int.min(1).optional(),
    /** V8's old-generation growing factor, 1 + n/100 (coordinator/heap-growth.ts); 0 = V8's own. */
    heapGrowingPercent: int.min(0).max(1000).default(DEFAULT_HEAP_GROWING_PERCENT),
    /** Credential for the dashboard, /api/rounds and /metrics (else they show pseudonyms to everyone). */
    operatorToken: z.string().min(16, 'operator token: at least 16 characters').optional(),
    /** PEM files: serve https + wss. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /** Enrolment: a file of allowed device public keys (hex, one a line), and/or the app backend's enrolment key (hex). */
    allowedKeysFile: z.string().min(1).optional(),
    enrolmentKey: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'enrolment key: 64 lowercase hex digits (ed25519 public key)')
      .optional(),
    trustProxy: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean()).optional(),
    handshakeTimeoutMs: int.min(1).optional(),
    maxMetricKeys: int.min(0).optional(),
    maxConnectionsPerAddress: int.min(0).optional(),
    maxHandshakesPerSecond: int.min(0).optional(),
    logLinesPerClientPerMinute: int.min(0).optional(),
    strategy: z.enum(STRATEGY_NAMES).default('fedavg'),
    /** The strategy's own options (its registry schema); serverLearningRate and momentum may also come flat. */
    strategyOptions: jsonRecord.optional(),
    serverLearningRate: z.coerce.number().positive().optional(),
    momentum: z.coerce.number().min(0).lt(1).optional(),
    /** Shorthand for the strategy's serverLrSchedule option (fedavgm, fedadam, fedyogi, fedadagrad). */
    serverLrSchedule: lrScheduleSpec().optional(),
    /** The client lr's schedule over rounds, sent in each round's fit config (coordinator/strategy/round-config.ts). */
    clientLrSchedule: lrScheduleSpec().optional(),
    /** FedProx's μ, sent in each round's fit config (0 = off). */
    proximalMu: z.coerce.number().min(0).max(1e4).optional(),
    localEpochs: int.min(1).optional(),
    batchSize: int.min(1).optional(),
    learningRate: z.coerce.number().positive().optional(),
    optimizer: z.enum(['sgd', 'adam']).optional(),
    trainingExtra: jsonRecord.optional(),
    /**
     * Which held-out items recommender devices never sample as negatives (recsys/split.ts), sent in
     * each round's fit config as extra.negativeExclusion, as `simulate --negative-exclusion` sends it.
     */
    negativeExclusion: z.enum(NEGATIVE_EXCLUSIONS).optional(),
    corsOrigin: z.string().min(1).optional(),
    /**
     * Hidden interactions by default: the coordinator sees only sums over >= threshold devices (README "Privacy:
     * what the coordinator sees"). Unset means DEFAULT_SECURE_AGGREGATION (secureAggregationOf); kept unset here
     * so a --privacy preset can tell an explicit `off` (central DP in plain mode) from the default.
     */
    secureAggregation: z.enum(['off', 'secagg', 'secagg+']).optional(),
    /** 'auto' (Bell et al.), a share count (>= 2) or a fraction in [0.5, 1] of each sharing group. */
    secaggThreshold: z.union([z.literal('auto'), z.coerce.number().positive()]).optional(),
    secaggDropoutRate: z.coerce.number().min(0).max(0.45).optional(),
    secaggCorruptionRate: z.coerce.number().min(0).max(0.3).optional(),
    /** Privacy preset (coordinator/privacy/presets.ts): DP clipping, noise and budget (and the secure-aggregation mode they need) together. */
    privacy: z.enum(PRIVACY_PRESETS).default('off'),
    /** DP clipping of a --privacy preset: fixed (the preset's clip norm) or adaptive[:quantile] (Andrew et al. 2021; plain mode or secure aggregation). */
    dpClip: z
      .string()
      .regex(/^(fixed|adaptive(:(0?\.\d+))?)$/, 'fixed, adaptive or adaptive:<quantile in (0, 1)>')
      .transform((v): DpClipChoice =>
        v === 'fixed' ? { mode: 'fixed' } : { mode: 'adaptive', targetQuantile: v.includes(':') ? Number(v.split(':')[1]) : 0.5 },
      )
      .refine((c) => c.mode === 'fixed' || (c.targetQuantile > 0 && c.targetQuantile < 1), 'the quantile must be in (0, 1)')
      .optional(),
    compression: z.enum(['none', 'fp16', 'int8']).default('none'),
    /** sync = rounds; buffered = FedBuff (coordinator/buffered/). */
    mode: z.enum(['sync', 'buffered']).default('sync'),
    bufferSize: int.min(1).optional(),
    maxStaleness: int.min(0).optional(),
    /** constant | polynomial[:a] | hinge[:after[:slope]] (coordinator/buffered/staleness.ts). */
    staleness: z
      .string()
      .transform((v, ctx) => {
        try {
          return parseStalenessPolicy(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err), input: v });
          return z.NEVER;
        }
      })
      .optional(),
    concurrency: z
      .preprocess(
        (v) => (v === 'all' ? v : typeof v === 'string' ? Number(v) : v),
        z.union([z.literal('all'), z.number().int().min(1)], { error: 'expected a whole number >= 1 or "all"' }),
      )
      .optional(),
    secaggNeighbours: z
      .preprocess(
        (v) => (v === 'auto' ? v : typeof v === 'string' ? Number(v) : v),
        z.union([z.literal('auto'), z.number().int().min(2)], { error: 'expected an even whole number >= 2 or "auto"' }),
      )
      .optional(),
    clipRange: z.coerce.number().positive().optional(),
    quantizationBits: int.min(8).max(30).optional(),
    secaggMaxWeight: z.coerce.number().positive().optional(),
    /** Secagg: each honest client scales its delta to this L2 norm before masking. */
    secaggNormBound: z.coerce.number().positive().optional(),
    /** Deadline of each short secagg stage (advertise, share keys, unmask); masked input waits roundTimeoutMs. */
    secaggStageTimeoutMs: int.min(1).optional(),
    /** Plain-mode update policy: adaptive (default), off, or a fixed L2 bound / example cap. */
    normBound: z.union([z.enum(['adaptive', 'off']), z.coerce.number().positive()]).optional(),
    normBoundMultiplier: z.coerce.number().min(1).optional(),
    normBoundQuantile: z.coerce.number().gt(0).lt(1).optional(),
    weightCap: z.union([z.enum(['adaptive', 'off']), z.coerce.number().positive()]).optional(),
    /** Automatic rollback of a collapsed model (on by default). */
    autoRollback: z.preprocess((v) => (v === 'on' || v === 'true' ? true : v === 'off' || v === 'false' ? false : v), z.boolean()).optional(),
    /** Once at start: serve the weights of this kept checkpoint version under a new version. */
    rollbackTo: int.min(0).optional(),
    /** Initial catalogue file (JSON or CSV): app item ids for rows 0..n-1; sets the model's numItems to n. */
    catalogue: z.string().min(1).optional(),
    /** Several nodes: the Redis they share (redis:// or rediss://), this node's id, and the leader lease TTL. */
    redis: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'expected a redis:// (or rediss://) URL')
      .optional(),
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node id: 1-64 letters, digits, _ . -')
      .optional(),
    leaseTtlMs: int.min(100).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** pretty on a terminal, json when piped (auto), or forced either way. */
    logFormat: z.enum(['auto', 'pretty', 'json']).default('auto'),
  })
  .superRefine((config, ctx) => {
    if (config.dpClip && config.privacy === 'off') {
      ctx.addIssue({ code: 'custom', path: ['dpClip'], message: 'needs a DP preset (--privacy standard or strict)' });
    }
    if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tlsCert'], message: 'give both --tls-cert and --tls-key, or neither' });
    }
    try {
      parseStrategyOptions(config.strategy, strategyOptionsOf(config));
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['strategyOptions'], message: err instanceof Error ? err.message : String(err) });
    }
  });
export type CliConfig = z.output<typeof cliConfigSchema>;

/** What `npm start` runs when --secure-aggregation is not given. */
export const DEFAULT_SECURE_AGGREGATION = 'secagg+' as const;

/** The secure-aggregation setting in force: the one given, or DEFAULT_SECURE_AGGREGATION. */
export function secureAggregationOf(config: { secureAggregation?: 'off' | 'secagg' | 'secagg+' | undefined }): 'off' | 'secagg' | 'secagg+' {
  return config.secureAggregation ?? DEFAULT_SECURE_AGGREGATION;
}

/**
 * The options the chosen strategy is built with: the flat serverLearningRate and momentum where the
 * strategy has such an option (other strategies ignore them, as before), then strategyOptions.
 */
export function strategyOptionsOf(
  config: Pick<CliConfig, 'strategy' | 'strategyOptions' | 'serverLearningRate' | 'momentum'> & Partial<Pick<CliConfig, 'serverLrSchedule'>>,
): Record<string, unknown> {
  return withShorthands(
    config.strategy,
    { serverLearningRate: config.serverLearningRate, momentum: config.momentum, serverLrSchedule: config.serverLrSchedule },
    config.strategyOptions,
  );
}
export type CliKey = keyof z.input<typeof cliConfigSchema>;

export const CLI_KEYS = Object.keys(cliConfigSchema.shape) as CliKey[];

/** FEDREC_MIN_CLIENTS for minClients, and so on. */
export function envName(key: CliKey): string {
  return `FEDREC_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Settings found in the environment: FEDREC_* for every key, and plain PORT as well (FEDREC_PORT wins). */
export function configFromEnv(env: Record<string, string | undefined>): Partial<Record<CliKey, unknown>> {
  const out: Partial<Record<CliKey, unknown>> = {};
  if (env['PORT']) out.port = env['PORT'];
  for (const key of CLI_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Merges sources (later ones win, undefined never overrides) and validates the result. */
export function resolveCliConfig(...sources: Array<Partial<Record<string, unknown>>>): CliConfig {
  const merged: Record<string, unknown> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) if (value !== undefined) merged[key] = value;
  }
  const unknownKeys = Object.keys(merged).filter((k) => !(CLI_KEYS as string[]).includes(k));
  if (unknownKeys.length) throw new CliUsageError(`unknown setting(s): ${unknownKeys.join(', ')}`);
  const parsed = cliConfigSchema.safeParse(merged);
  if (!parsed.success) throw new CliUsageError(parsed.error.issues.map((issue) => issueLine(issue, merged)).join('\n'));
  return parsed.data;
}

/** A mistake in the operator's settings: the CLI prints its message (naming the flag), never a stack trace. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Flags whose name is not the key in kebab case. */
const FLAG_EXCEPTIONS: Partial<Record<string, string>> = { serverLearningRate: '--server-lr' };

/** The command-line flag of a setting: minClients → --min-clients. */
export function flagName(key: string): string {
  return FLAG_EXCEPTIONS[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** "--min-clients (minClients, env FEDREC_MIN_CLIENTS): Invalid input: expected number, received NaN". */
function issueLine(issue: z.core.$ZodIssue, given: Record<string, unknown>): string {
  const key = issue.path[0];
  if (typeof key !== 'string') return issue.message;
  const where = (CLI_KEYS as string[]).includes(key) ? `${flagName(key)} (${key}, env ${envName(key as CliKey)})` : key;
  const rest = issue.path.slice(1).join('.');
  const value = given[key];
  const shown = typeof value === 'string' || typeof value === 'number' ? ` (got ${JSON.stringify(value)})` : '';
  return `${where}${rest ? ` ${rest}` : ''}: ${issue.message}${shown}`;
}
