import { z } from 'zod';
import {
  DEFAULT_TRAINING_CONFIG,
  catalogueListSchema,
  compressionSchema,
  signPublicKeyHexSchema,
  manifestSchema,
  modelSpecSchema,
  sharedSize,
  trainingConfigSchema,
} from '@fedrec/protocol';
import type { Weights } from '@fedrec/protocol';
import type { ClusterHooks } from './cluster/cluster-hooks.js';
import type { CoordinatorExtension } from './extension.js';
import type { FitCollector } from './fit-collector.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { PlainFitCollector, type PlainFitCollectorOptions } from './plain-fit-collector.js';
import { DEFAULT_UPLOAD_BUDGET_BYTES, DEFAULT_UPLOAD_SLOT_HOLD_MS } from './update-pool/upload-desk.js';
import { defaultUpdateWorkers } from './update-pool/update-pool.js';
import { SECAGG_MODES, MAX_SHARES, secAggConfigSchema } from '@fedrec/protocol';
import { SecAggFitCollector } from './secagg-fit-collector.js';
import { FedAvg } from './strategy/fedavg.js';
import type { Strategy } from './strategy/strategy.js';
import { isBuffering } from './strategy/aggregate-round.js';
import { updatePolicySchema } from './strategy/update-policy.js';
import { privacyOptionsSchema } from './privacy/privacy-options.js';
import { COORDINATOR_MODES, bufferedOptionsSchema, bufferedRefusal } from './buffered/buffered-options.js';

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
  /**
   * The app's item ids for rows 0..numItems-1 (one per row, in row order; ignored when a checkpoint is
   * resumed). Default: ids "0".."numItems-1", so numeric item ids keep working.
   */
  catalogue: catalogueListSchema.optional(),
  /** Where checkpoints (and by default the key file) live; none = in memory only. */
  checkpointDir: z.string().min(1).optional(),
  /** How many checkpoints to keep. */
  keepCheckpoints: z.number().int().min(1).default(3),
  /** X25519 key pair file; default checkpointDir/coordinator-key.json, or an ephemeral key without either. */
  keyFile: z.string().min(1).optional(),
  /** When set, clients must present this token in the handshake (an outer gate: device keys still decide who is who). */
  authToken: z.string().min(1).optional(),
  /** How long a new connection has to sign the coordinator's nonce before it is dropped (the nonce expires with it). */
  handshakeTimeoutMs: z.number().int().min(1).default(10_000),
  /** Enrolment mode: device public keys (hex ed25519) the coordinator admits. */
  allowedKeys: z.array(signPublicKeyHexSchema).optional(),
  /** Enrolment mode: the app backend's ed25519 public key (hex); devices present tokens it signed (protocol signEnrolment). */
  enrolmentKey: signPublicKeyHexSchema.optional(),
  /** When set, the dashboard, /api/rounds, /metrics and anything listing clients require it (operator-access.ts). */
  operatorToken: z.string().min(16, 'operatorToken: at least 16 characters').optional(),
  /** Serve https + wss with this PEM certificate (chain) and key instead of plain http. */
  tls: z.object({ cert: z.string().min(1), key: z.string().min(1), ca: z.string().optional() }).optional(),
  /** Count limits per X-Forwarded-For client (only behind a reverse proxy you run; else a client picks its own address). */
  trustProxy: z.boolean().default(false),
  /** Most metric names one update (or evaluate reply) may carry. */
  maxMetricKeys: z.number().int().min(0).default(32),
  /** Most open connections from one address (0 = no limit). */
  maxConnectionsPerAddress: z.number().int().min(0).default(256),
  /** Most handshakes one address may start per second (0 = no limit). */
  maxHandshakesPerSecond: z.number().int().min(0).default(50),
  /** Most log lines one client (or address) may cause per minute; the rest are summarised as "suppressed N" (0 = no limit). */
  logLinesPerClientPerMinute: z.number().int().min(0).default(30),
  /** Largest sealed update accepted, in bytes. */
  maxUpdateBytes: z
    .number()
    .int()
    .min(64)
    .default(64 * MiB),
  maxExamplesPerUpdate: z.number().positive().default(1e9),
  /**
   * Plain mode: each accepted update's L2 norm bound (default adaptive: 3 × the median of the last 500
   * norms) and weight cap (default 10 × the median of the last 500 example counts). See strategy/update-policy.ts.
   */
  updatePolicy: updatePolicySchema.default(updatePolicySchema.parse({})),
  /** Roll a committed model back when its evaluation collapses, or when rounds keep failing in training. */
  rollback: z
    .strictObject({
      /** Off: collapses are only logged. */
      auto: z.boolean().default(true),
      /** A non-finite evaluation loss, or one above factor × the median of the last good ones, is a collapse. */
      lossFactor: z.number().gt(1).default(3),
      /** How many recent good evaluation losses the median is taken over. */
      lossWindow: z.number().int().min(1).default(5),
      /** This many abandoned rounds in a row where most failures were TRAINING_FAILED also trigger a rollback (0 = never). */
      afterFailedRounds: z.number().int().min(0).default(3),
      /** Committed models kept in memory as rollback targets (plus the newest one whose evaluation passed). */
      keepModels: z.number().int().min(1).default(5),
    })
    .default({ auto: true, lossFactor: 3, lossWindow: 5, afterFailedRounds: 3, keepModels: 5 }),
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
  /**
   * How model downloads and plain-mode update deltas travel (protocol/compression.ts): 'none' (float32),
   * 'fp16' or 'int8' (per-row scales). Tasks carry it and devices obey; an update in another encoding is
   * refused (WRONG_ENCODING). Under secure aggregation only downloads are compressed (secagg quantizes uploads itself).
   */
  compression: compressionSchema.default('none'),
  /** Settings used when secureAggregation is on. */
  secAgg: secAggSettingsSchema.default(secAggSettingsSchema.parse({})),
  /** Client-level differential privacy (DP-FedAvg with an RDP accountant and a budget): coordinator/privacy/. */
  privacy: privacyOptionsSchema,
  strategy: z
    .custom<Strategy>(hasMethods('configureFit', 'aggregateFit', 'configureEvaluate', 'aggregateEvaluate'), 'strategy must implement Strategy')
    .optional(),
  fitCollector: z.custom<FitCollector>(hasMethods('collect'), 'fitCollector must implement FitCollector').optional(),
  /**
   * Plain mode: worker threads that open, validate and accumulate updates off the event loop (default: every
   * core but one, at least 1; 0 = all on the main thread). See coordinator/update-pool/.
   */
  updateWorkers: z.number().int().min(0).default(defaultUpdateWorkers()),
  /** Plain mode: most updates in flight in the update pool (back-pressure); default 2 per worker. */
  maxUpdatesInFlight: z.number().int().min(1).optional(),
  /**
   * Upload pacing: a device asks `upload:slot` with its sealed size (under secure aggregation: its masked input's)
   * and sends its update once granted; slots are granted in arrival order while their bytes fit this budget (one
   * always may go). Default 64 MiB; 0 = off (devices upload as soon as trained). See coordinator/update-pool/upload-desk.ts.
   */
  uploadBudgetBytes: z.number().int().min(0).optional(),
  /** Upload pacing: how long a granted upload slot waits for its update before going to the next device (default 60 s). */
  uploadSlotHoldMs: z.number().int().min(1).optional(),
  logger: z.custom<Logger>(hasMethods('info', 'warn', 'error', 'debug', 'child'), 'logger must be pino-compatible').optional(),
  /** 'sync' = rounds; 'buffered' = FedBuff: devices train continuously, a version every buffered.bufferSize updates (buffered/). */
  mode: z.enum(COORDINATOR_MODES).default('sync'),
  /** Buffered mode's buffer size, staleness limit and weighting, and concurrency (buffered/buffered-options.ts). */
  buffered: bufferedOptionsSchema.default(bufferedOptionsSchema.parse({})),
  /** Add-ons attached at start (dashboard, demo pages): extra HTTP routes and Socket.IO namespaces. */
  extensions: z.array(z.custom<CoordinatorExtension>(hasMethods('attach'), 'extension must have attach()')).default([]),
  /** Several nodes over Redis: built by coordinator/cluster/cluster-node.ts (loaded only when asked for). */
  cluster: z.custom<ClusterHooks>(hasMethods('attach', 'fencedSave', 'waitUntilLeader'), 'cluster must implement ClusterHooks').optional(),
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
  const numItems = Number(o.modelSpec.options['numItems']);
  if (o.catalogue && o.catalogue.length !== numItems) {
    throw new TypeError(
      `invalid coordinator options: the catalogue has ${o.catalogue.length} items, the model's numItems is ${String(o.modelSpec.options['numItems'])}`,
    );
  }
  if (o.cluster && !o.checkpointDir) {
    throw new TypeError(
      'invalid coordinator options: several nodes (cluster) need a checkpointDir they all share (followers load each committed version from it)',
    );
  }
  if (o.cluster && (o.secureAggregation !== 'off' || (o.strategy && isBuffering(o.strategy)))) {
    // Nodes combine partial sums; SecAgg's masks and a buffering strategy's single updates do not split across nodes.
    throw new TypeError(
      'invalid coordinator options: several nodes (cluster) need plain aggregation (npm start: --secure-aggregation off; its default is secagg+) with a streaming strategy (fedavg, fedavgm, fedadam)',
    );
  }
  if (o.secureAggregation !== 'off' && o.fitCollector)
    throw new TypeError('invalid coordinator options: set either fitCollector or secureAggregation, not both');
  if (o.secureAggregation !== 'off' && o.strategy && isBuffering(o.strategy)) {
    throw new TypeError(
      `invalid coordinator options: strategy ${o.strategy.name} needs each update, which secure aggregation hides; use a streaming strategy (fedavg, fedavgm, fedadam)`,
    );
  }
  if (o.privacy !== 'off' && o.strategy && isBuffering(o.strategy)) {
    throw new TypeError(`invalid coordinator options: strategy ${o.strategy.name} needs each update; differential privacy releases only noisy sums`);
  }
  const refusal = bufferedRefusal(o);
  if (refusal) throw new TypeError(`invalid coordinator options: ${refusal}`);
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
    fitCollector: wrapForCluster(
      o.cluster,
      o.fitCollector ??
        defaultCollector(o.secureAggregation, o.secAgg, {
          updateWorkers: o.updateWorkers,
          ...(o.maxUpdatesInFlight ? { maxUpdatesInFlight: o.maxUpdatesInFlight } : {}),
          ...(o.uploadBudgetBytes !== undefined ? { uploadBudgetBytes: o.uploadBudgetBytes } : {}),
          ...(o.uploadSlotHoldMs ? { uploadSlotHoldMs: o.uploadSlotHoldMs } : {}),
        }),
    ),
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
function defaultCollector(mode: (typeof SECAGG_MODES)[number], settings: z.output<typeof secAggSettingsSchema>, plain: PlainFitCollectorOptions): FitCollector {
  if (mode === 'off') return new PlainFitCollector(plain);
  const { advertiseTimeoutMs, shareKeysTimeoutMs, unmaskTimeoutMs, ...rest } = settings;
  // Masked inputs are paced with the same budget and hold as plain updates (0 = off).
  const budgetBytes = plain.uploadBudgetBytes ?? DEFAULT_UPLOAD_BUDGET_BYTES;
  const uploadPacing = budgetBytes > 0 ? { budgetBytes, holdMs: plain.uploadSlotHoldMs ?? DEFAULT_UPLOAD_SLOT_HOLD_MS } : undefined;
  return new SecAggFitCollector({
    config: { mode, ...rest },
    advertiseTimeoutMs,
    shareKeysTimeoutMs,
    unmaskTimeoutMs,
    ...(uploadPacing ? { uploadPacing } : {}),
  });
}

/** On a cluster node, the local collector runs this node's clients and the others' partial sums are merged in. */
function wrapForCluster(cluster: ClusterHooks | undefined, collector: FitCollector): FitCollector {
  return cluster ? cluster.fitCollector(collector) : collector;
}
