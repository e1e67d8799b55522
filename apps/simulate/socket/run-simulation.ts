import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCoordinator, type CoordinatorOptions, type Logger, type RoundRecord } from '@fedrec/coordinator';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { privacyPresetOptions, type PrivacyPresetName } from '@fedrec/coordinator/privacy/presets.js';
import { withRoundConfig, type RoundConfigOptions } from '@fedrec/coordinator/strategy/round-config.js';
import { getModel } from '@fedrec/models/registry.js';
import type { Compression, ModelSpec, TrainingConfig } from '@fedrec/protocol';
import type { UserData } from '@fedrec/recsys/split.js';
import type { EngineRequest } from '@fedrec/models/engine-choice.js';
import type { Personalization } from '@fedrec/client-sdk/trainers/pfedrec.js';
import { startClientFleet } from './client-fleet.js';
import { summarizeFailures, type FailureGroup } from './failure-summary.js';
import { simulationRoundTimeoutMs } from './round-deadline.js';
import type { FleetWorkerMessage } from './fleet-messages.js';
import { wireMeterExtension } from './wire-meter-extension.js';

export interface SocketSimulationOptions {
  users: UserData[];
  modelSpec: ModelSpec;
  rounds: number;
  /** Devices trained per round: a count, or 'all'. */
  clientsPerRound: number | 'all';
  trainingConfig: TrainingConfig;
  serverLearningRate: number;
  /** A registered strategy and its options (coordinator/strategy/registry.ts); the coordinator's FedAvg at serverLearningRate when absent. */
  strategy?: { name: string; options?: Record<string, unknown> };
  /** The client lr schedule and FedProx's μ the coordinator sends each round (needs `strategy`). */
  roundConfig?: RoundConfigOptions;
  /** Federated evaluation after every k-th round (the last round is always evaluated). */
  evaluateEvery: number;
  workers: number;
  /** 'auto' (the SDK's rule, @fedrec/models/engine-choice.ts), 'js' or 'tfjs'. */
  engine: EngineRequest;
  seed: number;
  /** On-device personalization of every device (client-sdk/trainers/pfedrec.ts); default 'none'. */
  personalization?: Personalization;
  /** How the coordinator sends models and takes deltas (protocol/compression.ts); default none. */
  compression?: Compression;
  /** The round deadline (and heartbeat); default: simulationRoundTimeoutMs (round-deadline.ts), 300 s unless a thread hosts over 300 devices. */
  roundTimeoutMs?: number;
  /** A --privacy preset (coordinator/privacy/presets.ts): secure aggregation and DP together; 'off' when absent. */
  privacy?: PrivacyPresetName;
  /**
   * End the run (instead of retrying for ever) after this many abandoned rounds in a row; the result
   * says so (stopped). Default 5.
   */
  maxAbandoned?: number;
  /** End the run after this long (ms) from the first device connecting; the result says so. Default none. */
  timeLimitMs?: number;
  /** Stretches the coordinator's pause after an abandoned round (default: the coordinator's). */
  retryDelayMs?: number;
  logger?: Logger;
  /** Every device connected: how many, and the engine and tfjs backend they run. */
  onReady?: (fleet: { clients: number; backend: string | undefined; engine: string | undefined }) => void;
  onRoundStarted?: (round: { roundId: number; selected: number }) => void;
  onDeviceMessage?: (message: FleetWorkerMessage) => void;
  onRound?: (row: RoundRow) => void;
  /** 'buffered' = FedBuff (coordinator/buffered/): a version every buffered.bufferSize updates; default 'sync'. */
  mode?: 'sync' | 'buffered';
  buffered?: CoordinatorOptions['buffered'];
  /** Slowdown factor by user id (device-speed.ts): heavy-tailed device speeds. */
  slowdown?: Record<number, number>;
  /** Stop as soon as an evaluated version reaches this HR@10. */
  targetHr?: number;
  /** Buffered mode: an evaluation finished after its version was committed (the row now has its metrics). */
  onEvaluated?: (row: RoundRow) => void;
}

/** When the run first reached the target: the version, and time and traffic from the first task to its commit. */
export interface TargetReached {
  modelVersion: number;
  hr10: number;
  /** Devices whose evaluation that HR@10 averages. */
  devices: number;
  /** From training start (every device connected) to the commit of that version. */
  ms: number;
  bytesUp: number;
  bytesDown: number;
}

/** One round as the simulation reports it. */
export interface RoundRow {
  round: number;
  modelVersion: number;
  outcome: 'committed' | 'abandoned';
  participants: number;
  failures: number;
  /** The longest any device worker's event loop was blocked during the round (ms): pings wait this long. */
  maxWorkerLagMs: number;
  /** The longest the coordinator's own event loop was blocked during the round (ms). */
  maxCoordinatorLagMs: number;
  /** The failures by code with their most common reason (empty when none failed). */
  failureGroups: FailureGroup[];
  /** Why the round was abandoned; null when it committed. */
  abandonReason: string | null;
  /** Example-weighted mean training loss the devices reported. */
  trainLoss: number | null;
  /** Test-item metrics of the evaluation after this round (null when not evaluated). */
  hr10: number | null;
  ndcg10: number | null;
  evalLoss: number | null;
  /** Validation-item metrics of the same evaluation (null without validation items): what selection reads. */
  valHr10: number | null;
  valNdcg10: number | null;
  /** Devices whose evaluation answers went into those figures, and how many were asked but failed. */
  evalDevices: number | null;
  evalFailures: number | null;
  bytesUp: number;
  bytesDown: number;
  /** bytesUp and bytesDown over the devices selected for the round: what one device sends and receives per round. */
  bytesUpPerDevice: number;
  bytesDownPerDevice: number;
  wallClockMs: number;
  /** Under DP: epsilon spent after this round (at the preset's delta); null without DP. */
  epsilon?: number | null;
}

export interface SocketSimulationResult {
  rounds: RoundRow[];
  /** The last evaluated round's metrics. */
  final: { hr10: number; ndcg10: number; loss: number } | null;
  /** Device ids evaluated after each evaluated round (by round), for coverage: who a figure does not cover. */
  evaluatedDevices: Map<number, string[]>;
  /** Set when the run ended before its rounds were done: why (abandoned rounds in a row, time limit). */
  stopped: string | null;
  /** From the first device connecting to the last round committed. */
  wallClockMs: number;
  connectMs: number;
  backend: string | undefined;
  /** The engine the devices trained with (what 'auto' resolved to). */
  engine: string | undefined;
  fingerprint: string | null;
  /** Set when targetHr was given and reached. */
  target: TargetReached | null;
  /** Fit updates the coordinator accepted, in total. */
  updatesAccepted: number;
}

function rowOf(record: RoundRecord, bytes: { up: number; down: number }, lag: { workers: number; coordinator: number }, selected: number): RoundRow {
  const evaluation = record.evaluation?.metrics;
  return {
    round: record.roundId,
    modelVersion: record.modelVersion,
    outcome: record.outcome,
    participants: record.participants.length,
    failures: record.failures.length,
    maxWorkerLagMs: Math.round(lag.workers),
    maxCoordinatorLagMs: Math.round(lag.coordinator),
    failureGroups: summarizeFailures(record.failures),
    abandonReason: record.abandonReason,
    trainLoss: record.fitMetrics['loss'] ?? null,
    hr10: evaluation?.['hr10'] ?? null,
    ndcg10: evaluation?.['ndcg10'] ?? null,
    evalLoss: evaluation?.['loss'] ?? null,
    valHr10: evaluation?.['val_hr10'] ?? null,
    valNdcg10: evaluation?.['val_ndcg10'] ?? null,
    evalDevices: record.evaluation ? record.evaluation.participants.length : null,
    evalFailures: record.evaluation ? record.evaluation.failures.length : null,
    bytesUp: bytes.up,
    bytesDown: bytes.down,
    bytesUpPerDevice: selected > 0 ? Math.round(bytes.up / selected) : 0,
    bytesDownPerDevice: selected > 0 ? Math.round(bytes.down / selected) : 0,
    wallClockMs: record.durationMs,
    epsilon: record.privacy?.epsilon ?? null,
  };
}

/**
 * A coordinator and one real SDK client per user, over Socket.IO on loopback: the coordinator
 * in this thread, the devices spread over worker threads.
 */
export async function runSocketSimulation(o: SocketSimulationOptions): Promise<SocketSimulationResult> {
  const wire = wireMeterExtension();
  const coordinatorLag = monitorEventLoopDelay({ resolution: 10 });
  coordinatorLag.enable();
  const perRound = o.clientsPerRound === 'all' ? o.users.length : Math.min(o.clientsPerRound, o.users.length);
  // Sized to the devices each worker thread trains in turn, unless the caller says (round-deadline.ts).
  const roundTimeoutMs = o.roundTimeoutMs ?? simulationRoundTimeoutMs(perRound, o.workers);
  const coordinator = createCoordinator({
    port: 0,
    host: '127.0.0.1',
    minClients: o.users.length,
    clientsPerRound: o.clientsPerRound === 'all' ? 'all' : perRound,
    // A round commits with at least half of the devices asked; the rest are failures on record.
    minResults: Math.max(1, Math.floor(perRound / 2)),
    rounds: o.rounds,
    roundTimeoutMs,
    // Hundreds of simulated devices share each worker thread's event loop (a real device has its
    // own), and the coordinator shares the same cores: a heartbeat as long as the round deadline
    // keeps the simulation from dropping devices that are only waiting for a core. A device that
    // really stops answering is still a failure: TIMEOUT at the deadline.
    pingTimeoutMs: roundTimeoutMs,
    evaluateEvery: o.evaluateEvery,
    modelSpec: o.modelSpec,
    initialWeights: getModel(o.modelSpec.name).initialWeights(o.modelSpec.options, o.seed),
    trainingConfig: o.trainingConfig,
    serverLearningRate: o.serverLearningRate,
    ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
    // The client lr schedule and FedProx's μ reach the devices as round config, as under npm start.
    ...(o.strategy ? { strategy: withRoundConfig(createStrategy(o.strategy.name, o.strategy.options), o.roundConfig ?? {}) } : {}),
    ...(o.privacy && o.privacy !== 'off' ? privacyPresetOptions(o.privacy) : {}),
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.buffered ? { buffered: o.buffered } : {}),
    extensions: [wire],
    ...(o.compression ? { compression: o.compression } : {}),
    // Every simulated device dials from loopback: the per-address abuse limits would throttle the fleet itself.
    maxConnectionsPerAddress: 0,
    maxHandshakesPerSecond: 0,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const rows: RoundRow[] = [];
  const evaluatedDevices = new Map<number, string[]>();
  const maxAbandoned = o.maxAbandoned ?? 5;
  let abandonedInARow = 0;
  let stopped: string | null = null;
  let stop: (reason: string) => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    stop = (reason) => {
      stopped ??= reason;
      resolve();
    };
  });
  let mark = wire.meter.reading();
  let roundLag = 0;
  coordinator.on('round:started', (r) => {
    mark = wire.meter.reading();
    roundLag = 0;
    coordinatorLag.reset();
    o.onRoundStarted?.({ roundId: r.roundId, selected: r.selected.length });
  });
  const onRecord = (record: RoundRecord) => {
    const now = wire.meter.reading();
    const row = rowOf(
      record,
      { up: now.bytesUp - mark.bytesUp, down: now.bytesDown - mark.bytesDown },
      { workers: roundLag, coordinator: coordinatorLag.max / 1e6 },
      record.selected.length,
    );
    rows.push(row);
    if (record.evaluation) evaluatedDevices.set(record.roundId, record.evaluation.participants);
    o.onRound?.(row);
    abandonedInARow = record.outcome === 'abandoned' ? abandonedInARow + 1 : 0;
    // Rounds that keep failing end the run with a report that says so, rather than retrying for ever.
    if (abandonedInARow >= maxAbandoned)
      stop(`${abandonedInARow} rounds in a row were abandoned (--max-abandoned ${maxAbandoned}); last reason: ${record.abandonReason ?? 'unknown'}`);
  };
  coordinator.on('round:committed', onRecord);
  coordinator.on('round:abandoned', onRecord);
  let stopEarly: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    stopEarly = resolve;
    coordinator.once('training:finished', () => resolve());
  });
  // Time and traffic at each commit, so reaching the target is charged to the version's commit, not its evaluation.
  let trainingStarted = 0;
  let updatesAccepted = 0;
  let target: TargetReached | null = null;
  const commits = new Map<number, { ms: number; bytesUp: number; bytesDown: number }>();
  coordinator.on('round:committed', (record) => {
    const now = wire.meter.reading();
    updatesAccepted += record.participants.length;
    commits.set(record.modelVersion, { ms: record.endedAt - trainingStarted, bytesUp: now.bytesUp, bytesDown: now.bytesDown });
  });
  const onEvaluation = (record: RoundRecord) => {
    const hr10 = record.evaluation?.metrics['hr10'];
    const at = commits.get(record.modelVersion);
    if (o.targetHr === undefined || target || hr10 === undefined || hr10 < o.targetHr || !at) return;
    target = { modelVersion: record.modelVersion, hr10, devices: record.evaluation?.participants.length ?? 0, ...at };
    stopEarly();
  };
  coordinator.on('round:committed', onEvaluation);
  coordinator.on('round:evaluated', (record) => {
    const row = rows.find((r) => r.modelVersion === record.modelVersion && r.outcome === 'committed');
    const metrics = record.evaluation?.metrics;
    if (row && metrics) {
      row.hr10 = metrics['hr10'] ?? null;
      row.ndcg10 = metrics['ndcg10'] ?? null;
      row.evalLoss = metrics['loss'] ?? null;
      // Buffered mode evaluates after the commit: the row and the coverage map learn who answered only now.
      row.evalDevices = record.evaluation!.participants.length;
      evaluatedDevices.set(record.roundId, record.evaluation!.participants);
      o.onEvaluated?.(row);
    }
    onEvaluation(record);
  });

  const { url } = await coordinator.start();
  const started = Date.now();
  const fleet = startClientFleet({
    url,
    users: o.users,
    workers: o.workers,
    engine: o.engine,
    ...(o.personalization ? { personalization: o.personalization } : {}),
    seed: o.seed,
    ...(o.slowdown ? { slowdown: o.slowdown } : {}),
    onMessage: (m) => {
      if (m.type === 'lag') roundLag = Math.max(roundLag, m.maxMs);
      o.onDeviceMessage?.(m);
    },
  });
  try {
    const ready = await fleet.ready;
    // The coordinator starts training once every device is connected (minClients): about now.
    trainingStarted = Date.now();
    const { backend, engine } = ready;
    o.onReady?.(ready);
    const connectMs = Date.now() - started;
    const timer =
      o.timeLimitMs !== undefined
        ? setTimeout(() => stop(`time limit of ${Math.round(o.timeLimitMs! / 1000)} s reached`), Math.max(0, o.timeLimitMs - connectMs))
        : undefined;
    await Promise.race([finished, stopRequested]);
    clearTimeout(timer);
    const wallClockMs = Date.now() - started;
    const last = [...rows].reverse().find((r) => r.hr10 !== null);
    return {
      rounds: rows,
      final: last ? { hr10: last.hr10!, ndcg10: last.ndcg10!, loss: last.evalLoss ?? Number.NaN } : null,
      evaluatedDevices,
      stopped,
      wallClockMs,
      connectMs,
      backend,
      engine,
      fingerprint: coordinator.status().fingerprint,
      target,
      updatesAccepted,
    };
  } finally {
    coordinatorLag.disable();
    await fleet.close();
    await coordinator.stop();
  }
}
