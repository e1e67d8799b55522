import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCoordinator, type Logger, type RoundRecord } from '@fedrec/coordinator';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { getModel } from '@fedrec/models/registry.js';
import type { Compression, ModelSpec, TrainingConfig } from '@fedrec/protocol';
import type { UserData } from '@fedrec/recsys/split.js';
import type { EngineRequest } from '@fedrec/models/engine-choice.js';
import { startClientFleet } from './client-fleet.js';
import { summarizeFailures, type FailureGroup } from './failure-summary.js';
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
  /** Federated evaluation after every k-th round (the last round is always evaluated). */
  evaluateEvery: number;
  workers: number;
  /** 'auto' (the SDK's rule, @fedrec/models/engine-choice.ts), 'js' or 'tfjs'. */
  engine: EngineRequest;
  seed: number;
  /** How the coordinator sends models and takes deltas (protocol/compression.ts); default none. */
  compression?: Compression;
  roundTimeoutMs?: number;
  logger?: Logger;
  /** Every device connected: how many, and the engine and tfjs backend they run. */
  onReady?: (fleet: { clients: number; backend: string | undefined; engine: string | undefined }) => void;
  onRoundStarted?: (round: { roundId: number; selected: number }) => void;
  onDeviceMessage?: (message: FleetWorkerMessage) => void;
  onRound?: (row: RoundRow) => void;
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
  hr10: number | null;
  ndcg10: number | null;
  evalLoss: number | null;
  bytesUp: number;
  bytesDown: number;
  /** bytesUp and bytesDown over the devices selected for the round: what one device sends and receives per round. */
  bytesUpPerDevice: number;
  bytesDownPerDevice: number;
  wallClockMs: number;
}

export interface SocketSimulationResult {
  rounds: RoundRow[];
  /** The last evaluated round's metrics. */
  final: { hr10: number; ndcg10: number; loss: number } | null;
  /** From the first device connecting to the last round committed. */
  wallClockMs: number;
  connectMs: number;
  backend: string | undefined;
  /** The engine the devices trained with (what 'auto' resolved to). */
  engine: string | undefined;
  fingerprint: string | null;
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
    bytesUp: bytes.up,
    bytesDown: bytes.down,
    bytesUpPerDevice: selected > 0 ? Math.round(bytes.up / selected) : 0,
    bytesDownPerDevice: selected > 0 ? Math.round(bytes.down / selected) : 0,
    wallClockMs: record.durationMs,
  };
}

/**
 * A coordinator and one real SDK client per user, over Socket.IO on loopback: the coordinator
 * in this thread, the devices spread over worker threads.
 */
export async function runSocketSimulation(o: SocketSimulationOptions): Promise<SocketSimulationResult> {
  const wire = wireMeterExtension();
  const roundTimeoutMs = o.roundTimeoutMs ?? 300_000;
  const coordinatorLag = monitorEventLoopDelay({ resolution: 10 });
  coordinatorLag.enable();
  const perRound = o.clientsPerRound === 'all' ? o.users.length : Math.min(o.clientsPerRound, o.users.length);
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
    ...(o.strategy ? { strategy: createStrategy(o.strategy.name, o.strategy.options) } : {}),
    extensions: [wire],
    ...(o.compression ? { compression: o.compression } : {}),
    // Every simulated device dials from loopback: the per-address abuse limits would throttle the fleet itself.
    maxConnectionsPerAddress: 0,
    maxHandshakesPerSecond: 0,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const rows: RoundRow[] = [];
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
    o.onRound?.(row);
  };
  coordinator.on('round:committed', onRecord);
  coordinator.on('round:abandoned', onRecord);
  const finished = new Promise<void>((resolve) => coordinator.once('training:finished', () => resolve()));

  const { url } = await coordinator.start();
  const started = Date.now();
  const fleet = startClientFleet({
    url,
    users: o.users,
    workers: o.workers,
    engine: o.engine,
    seed: o.seed,
    onMessage: (m) => {
      if (m.type === 'lag') roundLag = Math.max(roundLag, m.maxMs);
      o.onDeviceMessage?.(m);
    },
  });
  try {
    const ready = await fleet.ready;
    const { backend, engine } = ready;
    o.onReady?.(ready);
    const connectMs = Date.now() - started;
    await finished;
    const wallClockMs = Date.now() - started;
    const last = [...rows].reverse().find((r) => r.hr10 !== null);
    return {
      rounds: rows,
      final: last ? { hr10: last.hr10!, ndcg10: last.ndcg10!, loss: last.evalLoss ?? Number.NaN } : null,
      wallClockMs,
      connectMs,
      backend,
      engine,
      fingerprint: coordinator.status().fingerprint,
    };
  } finally {
    coordinatorLag.disable();
    await fleet.close();
    await coordinator.stop();
  }
}
