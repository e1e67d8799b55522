import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { allFinite, EnvelopeOpener, trainingConfigSchema } from '@fedrec/protocol';
import type { AggregateSums, KeyPair, ModelUpdated, WeightManifest, Weights } from '@fedrec/protocol';
import type { RoundRegistry } from './cluster/cluster-hooks.js';
import type { EmitCoordinatorEvent } from './events.js';
import { runEvaluatePhase } from './evaluate-phase.js';
import { inThreadEvaluations } from './evaluation-opening.js';
import type { FitAssignment, FitCollection } from './fit-collector.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import { resolveSampleSize } from './options.js';
import type { ResolvedOptions } from './options.js';
import type { EvaluationRecord, RoundRecord } from './round-record.js';
import { sleep } from './sleep.js';
import type { CoordinatorState } from './state.js';
import type { ClientInstruction, ConfigureArgs, StrategyState } from './strategy/strategy.js';
import { aggregateRound, isBuffering } from './strategy/aggregate-round.js';
import { RoundInput } from './strategy/round-input.js';
import { ModelHistory } from './model-history.js';
import type { KeptModel } from './model-history.js';
import type { CheckpointState } from './checkpoint-store.js';
import type { ModelSnapshot } from './state.js';
import type { PrivacyGuard } from './privacy/privacy-guard.js';
import { taskWire } from './task.js';

export interface RoundEngineDeps {
  options: ResolvedOptions;
  state: CoordinatorState;
  registry: RoundRegistry;
  /** Several nodes: rounds run only while this node holds the leader lease (cluster/leader-lease.ts). */
  leadership?: { waitUntilLeader(signal: AbortSignal): Promise<void> };
  keyPair: KeyPair;
  emit: EmitCoordinatorEvent;
  /** Writes (and fsyncs) a checkpoint of a snapshot; called before the snapshot's version is served. */
  persist(snapshot: ModelSnapshot): Promise<void>;
  /** True when persist writes checkpoints (a failed one then keeps the version from being served). */
  durable: boolean;
  /** A kept checkpoint of one version, for rollbacks beyond the models kept in memory. */
  loadCheckpoint(modelVersion: number): Promise<CheckpointState | null>;
  /** Tells connected clients about the new model. */
  announce(update: ModelUpdated): void;
  /** A round committed with these sums (laid out by the base model's manifest), before it is persisted. */
  committed?(manifest: WeightManifest, sums: AggregateSums, modelVersion: number): void;
  logger: Logger;
  /** Under DP: the budget check before each round, and the noisy release of each round's sum. */
  privacy?: PrivacyGuard;
}

export type RoundOutcome = 'committed' | 'abandoned' | 'stopped';

/**
 * The round loop: wait for clients → strategy selects → collector gathers results and
 * failures until the deadline → commit when enough results were accepted, else abandon
 * (model unchanged) and retry after a pause. Nothing thrown inside a round escapes the loop.
 */
export class RoundEngine {
  private readonly abort = new AbortController();
  private readonly opener: EnvelopeOpener;
  private loop: Promise<void> | undefined;
  /**
   * Serialises rounds, rollbacks and changes between rounds (catalogue growth): an operator's rollback
   * or a growth waits for the round in progress, and the next round waits for them.
   */
  private exclusive: Promise<unknown> = Promise.resolve();
  private readonly kept: ModelHistory;
  /** Abandoned rounds in a row where most selected clients answered TRAINING_FAILED. */
  private failedInTraining = 0;

  constructor(private readonly deps: RoundEngineDeps) {
    // Every in-flight request to a client listens for the stop signal: hundreds at once is normal.
    setMaxListeners(0, this.abort.signal);
    this.opener = new EnvelopeOpener(deps.keyPair.secretKey);
    this.kept = new ModelHistory(deps.options.rollback.keepModels);
    const { state, options: o } = deps;
    this.kept.add({
      modelVersion: state.modelVersion,
      weights: state.global,
      strategyState: o.strategy.saveState?.(state.global.manifest),
      good: null,
    });
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(work, work);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.deps.logger.error(errorFields(err), 'round loop crashed'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.deps.state.phase = 'stopped';
    this.deps.state.current = null;
  }

  /** Runs `work` between rounds: after the round in flight (if any) ends, before the next one starts. */
  betweenRounds<T>(work: () => Promise<T>): Promise<T> {
    return this.locked(work);
  }

  private finished(): boolean {
    const { rounds } = this.deps.options;
    return rounds !== 'continuous' && this.deps.state.modelVersion >= rounds;
  }

  private async run(): Promise<void> {
    const { options: o, state, logger } = this.deps;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const privacyHalt = this.deps.privacy?.halted;
      if (privacyHalt !== undefined) {
        state.phase = 'finished';
        logger.warn({ modelVersion: state.modelVersion, reason: privacyHalt }, 'training stopped: privacy budget');
        this.deps.emit('training:finished', { modelVersion: state.modelVersion });
        return;
      }
      if (this.finished()) return finishTraining(this.deps, 'all rounds done');
      let outcome: RoundOutcome;
      try {
        if (this.deps.leadership) {
          state.phase = 'idle';
          await this.deps.leadership.waitUntilLeader(signal);
          if (signal.aborted) return;
          if (this.finished()) continue;
        }
        if (!(await waitForClients(this.deps, signal))) return;
        outcome = await this.locked(() => this.runRound());
      } catch (err) {
        logger.error(errorFields(err), 'round failed unexpectedly');
        this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
        outcome = 'abandoned';
      } finally {
        state.current = null;
      }
      if (this.pendingAutoRollback !== undefined) {
        const reason = this.pendingAutoRollback;
        this.pendingAutoRollback = undefined;
        await this.locked(() => this.rollbackTo(undefined, reason)).catch((err: unknown) => logger.error(errorFields(err), 'rollback failed'));
      }
      if (outcome === 'abandoned') {
        state.phase = 'backoff';
        await sleep(o.retryDelayMs, signal);
      } else if (outcome === 'committed') {
        // Between rounds: neither fitting nor evaluating, and status (and the dashboard) says so.
        state.phase = 'idle';
        if (o.roundIntervalMs > 0) await sleep(o.roundIntervalMs, signal);
      }
    }
  }

  private async runRound(): Promise<RoundOutcome> {
    const { options: o, state } = this.deps;
    const signal = this.abort.signal;
    const roundId = state.nextRoundId++;
    const startedAt = Date.now();
    const base = { global: state.global, modelVersion: state.modelVersion };
    const assignments = this.assign(await o.strategy.configureFit(this.configureArgs(roundId)), 'fit', roundId);
    // Before any task goes out: a round that would exceed the privacy budget is never started.
    if (this.deps.privacy?.admit(assignments.length, this.deps.registry.list().length) !== undefined) return 'stopped';
    const deadline = startedAt + o.roundTimeoutMs;
    const selected = assignments.map((a) => a.clientId);
    state.current = { roundId, startedAt, deadline, selected };
    state.phase = 'fit';
    this.deps.logger.info({ roundId, modelVersion: base.modelVersion, selected: selected.length }, 'round started');
    this.deps.emit('round:started', { roundId, modelVersion: base.modelVersion, selected, deadline });

    const draft = { roundId, startedAt, selected, baseModelVersion: base.modelVersion };
    if (assignments.length < o.minResults) {
      return this.abandon(draft, emptyCollection(), `only ${assignments.length} clients selected, minResults is ${o.minResults}`);
    }
    const fitContext = {
      roundId,
      modelVersion: base.modelVersion,
      global: base.global,
      modelSpec: state.modelSpec,
      deadline,
      assignments,
      keyPair: this.deps.keyPair,
      opener: this.opener,
      limits: { maxUpdateBytes: o.maxUpdateBytes, maxExamplesPerUpdate: o.maxExamplesPerUpdate, maxMetricKeys: o.maxMetricKeys, compression: o.compression },
      wire: taskWire(o.compression, state),
      roundInput: new RoundInput(base.global.manifest, state.updatePolicy, isBuffering(o.strategy)),
      signal,
      logger: this.deps.logger.child({ roundId }),
    };
    const privacy = this.deps.privacy;
    const collection = privacy ? await privacy.collect(o.fitCollector, fitContext, o.minResults) : await o.fitCollector.collect(fitContext);
    if (signal.aborted) return 'stopped';
    return this.settleRound(draft, base, collection);
  }

  /**
   * A collected round becomes a version (aggregate → checkpoint → serve → evaluate) or is abandoned.
   * Also how the buffered engine (buffered/buffered-engine.ts) commits each buffer: call it under betweenRounds.
   */
  async settleRound(draft: Draft, base: { global: Weights; modelVersion: number }, collection: FitCollection): Promise<RoundOutcome> {
    const { options: o, state } = this.deps;
    const signal = this.abort.signal;
    const roundId = draft.roundId;
    if (collection.abandonReason !== undefined) return this.abandon(draft, collection, collection.abandonReason);
    if (collection.accepted.length < o.minResults) {
      return this.abandon(draft, collection, `only ${collection.accepted.length} results accepted, minResults is ${o.minResults}`);
    }

    let next: Weights;
    try {
      next = await aggregateRound(o.strategy, roundId, base.global, collection, collection.failures);
      if (next.body.length !== base.global.body.length) throw new Error(`strategy returned ${next.body.length} floats, expected ${base.global.body.length}`);
      if (!allFinite(next.body)) throw new Error('strategy produced non-finite weights');
    } catch (err) {
      this.deps.logger.error({ roundId, ...errorFields(err) }, 'aggregation failed');
      return this.abandon(draft, collection, `aggregation failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.noteTrainingFailures(draft, collection);
    const modelVersion = base.modelVersion + 1;
    // Durable before served: the checkpoint of the new version is written and fsynced before anything
    // (status, /api/model and its ETag, model:get, evaluation tasks, announce) can see the version.
    const record = this.record(draft, collection, 'committed', null, null, modelVersion);
    // Popularity counts go into the same checkpoint as the version they came with.
    this.deps.committed?.(base.global.manifest, collection.sums, modelVersion);
    if (!(await this.persistSnapshot({ ...this.snapshot(), global: next, modelVersion }, roundId))) {
      this.unrecord(record);
      return this.abandon(draft, collection, 'checkpoint failed; the new model was not served');
    }
    state.global = next;
    state.modelVersion = modelVersion;
    this.kept.add({ modelVersion, weights: next, strategyState: o.strategy.saveState?.(next.manifest), good: null });

    const evaluation = await this.maybeEvaluate(roundId);
    if (signal.aborted) return 'stopped';
    record.evaluation = evaluation;
    if (evaluation) {
      // The history now holds the evaluation: checkpoint again (the version is already durable).
      await this.persistSnapshot(this.snapshot(), roundId);
    }
    this.deps.announce({ modelVersion: state.modelVersion, roundId });
    state.roundsCommitted += 1;
    this.deps.logger.info(
      {
        roundId,
        modelVersion: state.modelVersion,
        accepted: record.participants.length,
        failures: record.failures.length,
        clipped: collection.clipped ?? 0,
        weightCapped: collection.weightCapped ?? 0,
        durationMs: record.durationMs,
      },
      'round committed',
    );
    this.deps.emit('round:committed', record);
    if (evaluation) await this.judge(evaluation);
    return 'committed';
  }

  /** The state a checkpoint is written from. */
  private snapshot(): ModelSnapshot {
    const { global, modelSpec, modelVersion, nextRoundId, history } = this.deps.state;
    return { global, modelSpec, modelVersion, nextRoundId, history };
  }

  /** Writes a checkpoint; false when it failed and checkpoints are on (then nothing new may be served). */
  private async persistSnapshot(snapshot: ModelSnapshot, roundId: number | undefined): Promise<boolean> {
    try {
      await this.deps.persist(snapshot);
      return true;
    } catch (err) {
      this.deps.logger.error({ roundId, modelVersion: snapshot.modelVersion, ...errorFields(err) }, 'checkpoint failed');
      this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
      return !this.deps.durable;
    }
  }

  /** Marks the evaluated model good or bad; a collapse rolls back automatically when the policy says so. */
  private async judge(evaluation: EvaluationRecord): Promise<void> {
    const { options: o, logger } = this.deps;
    const loss = evaluation.metrics['loss'];
    const reason = this.collapseReason(evaluation, loss);
    this.kept.mark(evaluation.modelVersion, reason === undefined, loss);
    if (reason === undefined) return;
    logger.error({ modelVersion: evaluation.modelVersion, reason }, 'the committed model collapsed');
    if (o.rollback.auto) await this.rollbackTo(undefined, `automatic: ${reason}`);
  }

  private collapseReason(evaluation: EvaluationRecord, loss: number | undefined): string | undefined {
    const rule = this.deps.options.rollback;
    const asked = evaluation.participants.length + evaluation.failures.length;
    const failedTraining = evaluation.failures.filter((f) => f.code === 'TRAINING_FAILED').length;
    // Clients drop NaN/Infinity metrics before sending, so a blown-up model shows as missing losses and failed evaluations.
    if (asked > 0 && failedTraining * 2 > asked) return `${failedTraining} of ${asked} evaluating clients failed (TRAINING_FAILED)`;
    if (evaluation.participants.length > 0 && loss === undefined && this.kept.hasGoodLoss()) return 'evaluation reported no finite loss';
    return this.kept.collapse(loss, rule);
  }

  /**
   * Serves the weights (and strategy state) of an earlier version under a NEW version number, so no
   * version or ETag is ever reused for other weights. undefined = the automatic target (the newest kept
   * model with older weights, preferring one whose evaluation passed). Waits for a round in progress.
   */
  rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }> {
    return this.locked(() => this.rollbackTo(toVersion, reason)).then((r) => {
      if (!r)
        throw new RangeError(
          toVersion === undefined ? 'no earlier model is kept to roll back to' : `version ${toVersion} is not kept (in memory or as a checkpoint)`,
        );
      return r;
    });
  }

  private async rollbackTo(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number } | undefined> {
    const { state, options: o, logger } = this.deps;
    let target: Pick<KeptModel, 'modelVersion' | 'weights' | 'strategyState'> | undefined =
      toVersion === undefined ? this.kept.rollbackTarget(state.modelVersion) : this.kept.get(toVersion);
    if (!target && toVersion !== undefined && toVersion <= state.modelVersion) {
      const cp = await this.deps.loadCheckpoint(toVersion);
      if (cp && cp.weights.body.length === state.global.body.length) {
        target = { modelVersion: cp.rolledBackFrom ?? toVersion, weights: cp.weights, strategyState: cp.strategyState };
      }
    }
    if (!target) {
      logger.warn({ modelVersion: state.modelVersion, toVersion, reason }, 'no model to roll back to');
      return undefined;
    }
    if (target.weights.body.length !== state.global.body.length) {
      // The catalogue grew since: the older weights have fewer item rows than the catalogue has items.
      logger.warn({ modelVersion: state.modelVersion, toVersion: target.modelVersion, reason }, 'cannot roll back across a catalogue growth');
      return undefined;
    }
    const from = state.modelVersion;
    const modelVersion = from + 1;
    const weights = { manifest: state.global.manifest, body: Float32Array.from(target.weights.body) };
    const previousState = o.strategy.saveState?.(state.global.manifest);
    restoreStrategyState(o.strategy, state.global.manifest, target.strategyState, previousState);
    if (!(await this.persistSnapshot({ ...this.snapshot(), global: weights, modelVersion, rolledBackFrom: target.modelVersion }, undefined))) {
      if (previousState) o.strategy.loadState?.(state.global.manifest, previousState);
      return undefined;
    }
    state.global = weights;
    state.modelVersion = modelVersion;
    state.rollbacks += 1;
    this.kept.alias(modelVersion, target.modelVersion);
    this.failedInTraining = 0;
    logger.warn({ from, modelVersion, weightsOf: target.modelVersion, reason }, 'model rolled back');
    this.deps.announce({ modelVersion, roundId: state.nextRoundId - 1 });
    this.deps.emit('model:rolledBack', { from, modelVersion, weightsOf: target.modelVersion, reason });
    return { modelVersion, from };
  }

  /** Turns the strategy's instructions into tasks for connected, distinct clients with valid configs. */
  private assign(instructions: ClientInstruction[], phase: 'fit' | 'evaluate', roundId: number): FitAssignment[] {
    const seen = new Set<string>();
    const out: FitAssignment[] = [];
    for (const { clientId, config } of instructions) {
      const socket = this.deps.registry.get(clientId);
      if (!socket || seen.has(clientId)) {
        this.deps.logger.warn({ roundId, clientId }, 'strategy chose an unknown or repeated client; skipped');
        continue;
      }
      seen.add(clientId);
      out.push({ clientId, socket, config: trainingConfigSchema.parse(config), taskId: `${phase}-${roundId}-${randomBytes(6).toString('hex')}` });
    }
    return out;
  }

  /** What the strategy chooses from: the current model and the clients connected now. */
  private configureArgs(roundId: number): ConfigureArgs {
    const { options: o, state, registry } = this.deps;
    const clients = registry.list();
    return {
      roundId,
      modelVersion: state.modelVersion,
      global: state.global,
      clients,
      sampleSize: resolveSampleSize(o.clientsPerRound, clients.length),
      config: o.trainingConfig,
    };
  }

  private async maybeEvaluate(roundId: number): Promise<EvaluationRecord | null> {
    const { options: o, state } = this.deps;
    // Every k-th version, and always the final one of a fixed run, so a run ends with its quality known.
    const final = o.rounds !== 'continuous' && state.modelVersion >= o.rounds;
    if (o.evaluateEvery === 0 || (state.modelVersion % o.evaluateEvery !== 0 && !final)) return null;
    state.phase = 'evaluate';
    try {
      const assignments = this.assign(await o.strategy.configureEvaluate(this.configureArgs(roundId)), 'evaluate', roundId);
      return await runEvaluatePhase({
        roundId,
        modelVersion: state.modelVersion,
        global: state.global,
        modelSpec: state.modelSpec,
        deadline: Date.now() + o.roundTimeoutMs,
        assignments,
        strategy: o.strategy,
        maxMetricKeys: o.maxMetricKeys,
        evaluations: o.fitCollector.evaluationOpener?.(this.deps.keyPair.secretKey) ?? inThreadEvaluations(this.opener),
        signal: this.abort.signal,
        collector: o.fitCollector, // secure aggregation evaluates through it: only sums reach the coordinator
        logger: this.deps.logger,
        wire: taskWire(o.compression, state),
        ...(o.cluster ? { carriesModel: (socket) => o.cluster!.carriesModel(socket) } : {}),
      });
    } catch (err) {
      this.deps.logger.error({ roundId, ...errorFields(err) }, 'evaluation failed; the round still commits');
      return null;
    }
  }

  private abandon(draft: Draft, collection: FitCollection, reason: string): RoundOutcome {
    const record = this.record(draft, collection, 'abandoned', reason, null, draft.baseModelVersion);
    this.noteTrainingFailures(draft, collection);
    this.deps.state.roundsAbandoned += 1;
    this.deps.logger.warn({ roundId: draft.roundId, reason, failures: record.failures.length }, 'round abandoned; model unchanged');
    this.deps.emit('round:abandoned', record);
    return 'abandoned';
  }

  /**
   * No permanent stall: when most selected clients keep failing to train on the served model (a
   * poisoned or exploded model makes local training overflow), roll back after that many rounds.
   */
  private noteTrainingFailures(draft: Draft, collection: FitCollection): void {
    const { rollback } = this.deps.options;
    const failed = collection.failures.filter((f) => f.code === 'TRAINING_FAILED').length;
    if (draft.selected.length === 0 || failed * 2 <= draft.selected.length) {
      this.failedInTraining = 0;
      return;
    }
    this.failedInTraining += 1;
    if (rollback.auto && rollback.afterFailedRounds > 0 && this.failedInTraining >= rollback.afterFailedRounds) {
      this.failedInTraining = 0;
      // The model clients trained on is the culprit: never roll back to it again.
      this.kept.mark(draft.baseModelVersion, false, undefined);
      this.pendingAutoRollback = `automatic: ${rollback.afterFailedRounds} rounds in a row where most clients failed to train`;
    }
  }

  private pendingAutoRollback: string | undefined;

  private unrecord(record: RoundRecord): void {
    const i = this.deps.state.history.lastIndexOf(record);
    if (i >= 0) this.deps.state.history.splice(i, 1);
  }

  private record(
    draft: Draft,
    collection: FitCollection,
    outcome: RoundRecord['outcome'],
    reason: string | null,
    evaluation: EvaluationRecord | null,
    modelVersion: number,
  ): RoundRecord {
    const { state, options: o } = this.deps;
    const endedAt = Date.now();
    const record: RoundRecord = {
      roundId: draft.roundId,
      outcome,
      baseModelVersion: draft.baseModelVersion,
      modelVersion,
      startedAt: draft.startedAt,
      endedAt,
      durationMs: endedAt - draft.startedAt,
      selected: draft.selected,
      participants: collection.accepted,
      failures: collection.failures,
      totalExamples: collection.sums.weightSum,
      fitMetrics: collection.metrics,
      evaluation,
      abandonReason: reason,
      ...(collection.privacy ? { privacy: collection.privacy } : {}),
    };
    state.history.push(record);
    if (state.history.length > o.historyLimit) state.history.splice(0, state.history.length - o.historyLimit);
    return record;
  }
}

/**
 * The run is over (a fixed run's last version): status says so and listeners hear it. Shared by the round
 * engine and the buffered engine (buffered/buffered-engine.ts), so both end a run the same way.
 */
export function finishTraining(deps: Pick<RoundEngineDeps, 'state' | 'logger' | 'emit'>, message: string): void {
  const { state } = deps;
  state.phase = 'finished';
  deps.logger.info({ modelVersion: state.modelVersion }, message);
  deps.emit('training:finished', { modelVersion: state.modelVersion });
}

/**
 * Waits, with status saying so, until `minClients` are connected; false when stopped meanwhile. Shared
 * by the round engine (before each round) and the buffered engine (when no task is out).
 */
export async function waitForClients(deps: Pick<RoundEngineDeps, 'state' | 'registry' | 'options'>, signal: AbortSignal): Promise<boolean> {
  deps.state.phase = 'waiting-for-clients';
  await deps.registry.waitForCount(deps.options.minClients, signal);
  return !signal.aborted;
}

/** A round as it started: what settleRound records. */
export interface Draft {
  roundId: number;
  startedAt: number;
  selected: string[];
  baseModelVersion: number;
}

/** Puts a rollback target's strategy state back; a target without one resets the strategy's state to zeros. */
function restoreStrategyState(
  strategy: ResolvedOptions['strategy'],
  manifest: Weights['manifest'],
  target: StrategyState | undefined,
  current: StrategyState | undefined,
): void {
  if (!strategy.loadState) return;
  if (target) return strategy.loadState(manifest, target);
  if (!current) return;
  const zeros: StrategyState = {};
  for (const [slot, tensors] of Object.entries(current))
    zeros[slot] = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, new Float32Array(t.length)]));
  strategy.loadState(manifest, zeros);
}

function emptyCollection(): FitCollection {
  return {
    sums: { weightedDeltaSum: new Float64Array(0), weightSum: 0, rowWeightSums: new Float64Array(0), contributors: 0 },
    accepted: [],
    failures: [],
    metrics: {},
  };
}
