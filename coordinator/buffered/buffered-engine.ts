import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { EnvelopeOpener, ProtocolError, encodeWeights, failFrom, trainingConfigSchema } from '@fedrec/protocol';
import type { EnvelopeBinding, ErrorInfo, RoundResult, SealedEnvelope, TrainingConfig, WeightManifest, Weights, WireWeights } from '@fedrec/protocol';
import { ackSchema, knownCode } from '../ack.js';
import type { CoordinatorEngine } from '../coordinator-engine.js';
import type { FailureCode } from '../failure.js';
import type { FitCollection, UpdateLimits } from '../fit-collector.js';
import { errorFields } from '../logger.js';
import { resolveSampleSize } from '../options.js';
import { requestWithDeadline, type RequestOutcome } from '../request.js';
import { finishTraining, RoundEngine, waitForClients, type RoundEngineDeps } from '../round-engine.js';
import type { ClientSocket } from '../socket-types.js';
import { isBuffering } from '../strategy/aggregate-round.js';
import { taskFor } from '../task.js';
import { DEFAULT_UPLOAD_BUDGET_BYTES, DEFAULT_UPLOAD_SLOT_HOLD_MS } from '../update-pool/upload-desk.js';
import { UploadSlots } from '../update-pool/upload-slots.js';
import { UpdatePool, type OpenedUpdate, type PooledSums } from '../update-pool/update-pool.js';
import { inThreadEvaluations, openEvaluateReply } from '../evaluation-opening.js';
import { openValidatedUpdate, parseFitReply } from '../update-validation.js';
import { BufferedStats, type BufferedStatsListener, type BufferedStatus } from './buffered-stats.js';
import { OpenBuffer } from './open-buffer.js';
import { PendingEvaluation } from './pending-evaluation.js';
import { stalenessWeight } from './staleness.js';
import { listenForUploadSlot } from './upload-pacing.js';

/** A task out at a device: what its answer is checked against (binding, base version, manifest). */
interface Task {
  kind: 'fit' | 'evaluate';
  clientId: string;
  taskId: string;
  roundId: number;
  baseVersion: number;
  manifest: WeightManifest;
  socket: ClientSocket;
  /** Paced fit tasks: stops listening for this task's `upload:slot` (upload-pacing.ts). */
  stopListening?: () => void;
}

const fitAckSchema = ackSchema(z.unknown());
// The value is checked by openEvaluateReply, which refuses an unsealed reply by name.
const evaluateAckSchema = ackSchema(z.unknown());
/** How often the dispatcher looks for newly connected clients when nothing else wakes it. */
const IDLE_POLL_MS = 200;

/**
 * Buffered asynchronous aggregation (FedBuff, Nguyen et al. AISTATS'22). Every free connected client
 * (up to `buffered.concurrency` at once) gets a fit task on the newest model, tagged with that version;
 * each answer is validated like a sync round's (sealed envelope bound to the task, norm bound, weight
 * cap), weighted by its staleness (staleness.ts), refused with STALE_UPDATE beyond `maxStaleness`, and
 * streamed into the open buffer. Every `bufferSize` accepted updates the buffer is committed as a round
 * through the round engine's own commit path (RoundEngine.settleRound: strategy, checkpoint before
 * serving, announce, history), applied to the current model whatever version each delta was trained on.
 *
 * Uploads are paced as in sync rounds (protocol/upload-slot.ts; options uploadBudgetBytes, uploadSlotHoldMs):
 * a fit task says `uploadSlot`, the device asks for a slot with its sealed size, and the engine's one
 * UploadSlots grants them across all tasks in flight, keyed by task id, so a burst of answers never has more
 * than the budget's bytes on the way in or being opened. An update without a live slot is refused
 * (UPLOAD_SLOT_REQUIRED) before anything else is checked or counted.
 */
export class BufferedEngine implements CoordinatorEngine {
  private readonly rounds: RoundEngine;
  private readonly abort = new AbortController();
  private readonly opener: EnvelopeOpener;
  private readonly inFlight = new Map<string, Task>();
  private readonly stats: BufferedStats;
  /** Upload pacing (undefined with uploadBudgetBytes 0): slots keyed by task id, released when the task ends. */
  private readonly slots: UploadSlots | undefined;
  private readonly slotHoldMs: number;
  /**
   * The update pool (updateWorkers > 0), as sync rounds use it (update-pool/): updates are opened, validated,
   * weighted, bounded and summed in its workers; one pool round per manifest, cut at every commit. Started
   * with the first update (an idle engine runs no threads).
   */
  private pool: UpdatePool | undefined;
  private poolRound: { id: number; manifest: WeightManifest } | undefined;
  private buffer: OpenBuffer | undefined;
  private wire: { modelVersion: number; global: Weights; weights: WireWeights } | undefined;
  private commits: Promise<void> = Promise.resolve();
  /** Full buffers not yet committed: no fit is handed out meanwhile, so it starts from the version being made. */
  private committing = 0;
  private evaluation: PendingEvaluation | undefined;
  /** A fixed run's last version still needs its evaluation once the one in progress ends. */
  private finalEvaluationDue = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Something happened while the dispatcher was busy: its next idle() returns at once. */
  private woken = false;

  constructor(private readonly deps: RoundEngineDeps) {
    setMaxListeners(0, this.abort.signal);
    // The round engine is the commit path (aggregate, checkpoint before serving, announce), the lock and
    // rollbacks. It never evaluates here: evaluations run beside training (pending-evaluation.ts).
    this.rounds = new RoundEngine({ ...deps, options: { ...deps.options, evaluateEvery: 0, minResults: 1 } });
    this.opener = new EnvelopeOpener(deps.keyPair.secretKey);
    this.stats = new BufferedStats(deps.options.buffered.maxStaleness);
    const budgetBytes = deps.options.uploadBudgetBytes ?? DEFAULT_UPLOAD_BUDGET_BYTES;
    this.slotHoldMs = deps.options.uploadSlotHoldMs ?? DEFAULT_UPLOAD_SLOT_HOLD_MS;
    this.slots = budgetBytes > 0 ? new UploadSlots({ budgetBytes, holdMs: this.slotHoldMs }) : undefined;
  }

  /** The update pool (for tests and benchmarks: its counters); undefined with updateWorkers 0. */
  get updatePool(): UpdatePool | undefined {
    return this.pool;
  }

  /** The upload slots (for tests and benchmarks: the peak bytes granted at once); undefined when unpaced. */
  get uploadSlots(): UploadSlots | undefined {
    return this.slots;
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.deps.logger.error(errorFields(err), 'buffered loop crashed'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    // A commit in progress finishes (durable before served); the open buffer is dropped, its devices told.
    await this.commits;
    if (this.buffer) await flushed(this.drop(this.buffer, 'the coordinator stopped before the buffer was full; the update was not applied'));
    this.slots?.close();
    await this.pool?.close();
    await this.rounds.stop();
    this.deps.state.phase = 'stopped';
    this.deps.state.current = null;
  }

  betweenRounds<T>(work: () => Promise<T>): Promise<T> {
    return this.rounds.betweenRounds(work);
  }

  rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }> {
    return this.rounds.rollback(toVersion, reason);
  }

  /** Each acceptance, refusal and drop as it happens (the Prometheus metrics: buffered-metrics.ts). */
  listen(listener: BufferedStatsListener): void {
    this.stats.listen(listener);
  }

  status(): BufferedStatus {
    const b = this.deps.options.buffered;
    const s = b.staleness;
    return {
      bufferSize: b.bufferSize,
      maxStaleness: b.maxStaleness,
      stalenessPolicy: s.policy === 'polynomial' ? `polynomial:${s.exponent}` : s.policy === 'hinge' ? `hinge:${s.after}:${s.slope}` : 'constant',
      buffered: this.buffer?.size ?? 0,
      inFlight: this.inFlight.size,
      accepted: this.stats.accepted,
      refusedStale: this.stats.refusedStale,
      commits: this.stats.commits,
      dropped: this.stats.dropped,
      ...(this.slots ? { uploads: { bytesGranted: this.slots.bytesGranted, waiting: this.slots.waiting, peakBytes: this.slots.peakBytes } } : {}),
      ...(this.pool
        ? {
            updatePool: {
              workers: this.pool.size,
              envelopes: this.pool.envelopes,
              evaluations: this.pool.evaluations,
              inFlight: this.pool.gate.inFlight,
              crashes: this.pool.crashes,
            },
          }
        : {}),
      ...this.stats.snapshot(),
    };
  }

  private finished(): boolean {
    const { rounds } = this.deps.options;
    return rounds !== 'continuous' && this.deps.state.modelVersion >= rounds;
  }

  private async run(): Promise<void> {
    const { options: o, state, registry, logger } = this.deps;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.evaluation?.done(Date.now())) await this.finishEvaluation();
        if (this.finished() && !this.evaluation && !this.finalEvaluationDue) {
          await this.commits;
          if (!this.evaluation && !this.finalEvaluationDue) return finishTraining(this.deps, 'all versions done');
        }
        if (registry.list().length < o.minClients && this.inFlight.size === 0) {
          await waitForClients(this.deps, signal);
          continue;
        }
        state.phase = this.evaluation ? 'evaluate' : 'fit';
        await this.dispatch();
      } catch (err) {
        logger.error(errorFields(err), 'buffered dispatch failed unexpectedly');
        this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
      }
      await this.idle(IDLE_POLL_MS);
    }
  }

  /** Hands every free client its next task: the pending evaluation first, else a fit up to the concurrency limit. */
  private async dispatch(): Promise<void> {
    const { options: o, state, registry } = this.deps;
    const free = registry.list().filter((c) => !this.inFlight.has(c.clientId));
    const evaluation = this.evaluation;
    if (evaluation) {
      evaluation.keepOnly(new Set(registry.list().map((c) => c.clientId)));
      for (const c of free) if (evaluation.take(c.clientId)) this.sendEvaluate(evaluation, c.clientId);
    }
    if (this.finished() || this.committing > 0) return;
    const limit = o.buffered.concurrency === 'all' ? Number.POSITIVE_INFINITY : o.buffered.concurrency;
    let fitting = 0;
    for (const t of this.inFlight.values()) if (t.kind === 'fit') fitting += 1;
    const candidates = free.filter((c) => !this.inFlight.has(c.clientId));
    const slots = Math.min(limit - fitting, candidates.length);
    if (slots <= 0) return;
    const buffer = this.currentBuffer();
    // The strategy still chooses whom and with what config (e.g. a client learning-rate schedule), among the free clients.
    const instructions = await o.strategy.configureFit({
      roundId: buffer.roundId,
      modelVersion: state.modelVersion,
      global: state.global,
      clients: candidates,
      sampleSize: slots,
      config: o.trainingConfig,
    });
    let sent = 0;
    for (const { clientId, config } of instructions) {
      if (sent >= slots || this.inFlight.has(clientId)) continue;
      const socket = registry.get(clientId);
      if (!socket) continue;
      this.sendFit(clientId, socket, trainingConfigSchema.parse(config), buffer.roundId);
      sent += 1;
    }
  }

  private sendFit(clientId: string, socket: ClientSocket, config: TrainingConfig, roundId: number): void {
    const { state, options: o } = this.deps;
    const wire = this.wireWeights();
    const task: Task = {
      kind: 'fit',
      clientId,
      taskId: `fit-${roundId}-${randomBytes(6).toString('hex')}`,
      roundId,
      baseVersion: wire.modelVersion,
      manifest: wire.global.manifest,
      socket,
    };
    const deadline = Date.now() + o.roundTimeoutMs;
    // The weights travel in the task: buffered tasks span versions, and model:get serves only the current one.
    const payload = {
      ...taskFor({ roundId, modelVersion: task.baseVersion, deadline, modelSpec: state.modelSpec }, { taskId: task.taskId, config }),
      weights: wire.weights,
      ...(this.slots ? { uploadSlot: true as const } : {}),
    };
    // Listening before the task goes out: a fast device asks for its slot right after training.
    if (this.slots) task.stopListening = listenForUploadSlot(task, this.slots, { maxUpdateBytes: o.maxUpdateBytes, holdMs: this.slotHoldMs }, this.deps.logger);
    this.track(task, requestWithDeadline(socket, 'round:fit', payload, deadline, this.abort.signal), (answer) => this.fitAnswered(task, answer));
  }

  private sendEvaluate(evaluation: PendingEvaluation, clientId: string): void {
    const { state, options: o, registry } = this.deps;
    const socket = registry.get(clientId)!;
    const task: Task = {
      kind: 'evaluate',
      clientId,
      taskId: `evaluate-${evaluation.roundId}-${randomBytes(6).toString('hex')}`,
      roundId: evaluation.roundId,
      baseVersion: evaluation.modelVersion,
      manifest: state.global.manifest,
      socket,
    };
    const round = { roundId: evaluation.roundId, modelVersion: evaluation.modelVersion, deadline: evaluation.deadline, modelSpec: state.modelSpec };
    const payload = { ...taskFor(round, { taskId: task.taskId, config: o.trainingConfig }), weights: evaluation.weights };
    this.track(task, requestWithDeadline(socket, 'round:evaluate', payload, evaluation.deadline, this.abort.signal), async (answer) => {
      const failed = (code: FailureCode, message: string): void => {
        evaluation.failures.push({ clientId, taskId: task.taskId, phase: 'evaluate', code, message });
      };
      try {
        if (answer.kind === 'failure') return failed(answer.code, answer.message);
        const ack = evaluateAckSchema.safeParse(answer.reply);
        if (!ack.success) return failed('INVALID_PAYLOAD', `malformed round:evaluate ack: ${ack.error.issues[0]?.message ?? 'invalid'}`);
        if (!ack.data.ok) return failed(knownCode(ack.data.error.code), `client reported: ${ack.data.error.message}`);
        // The same opening as a plain round's evaluate phase: sealed, bound to this task and kind 'evaluate'.
        const binding = { roundId: evaluation.roundId, taskId: task.taskId, modelVersion: evaluation.modelVersion };
        // Opened in an update worker like the fit updates (the main thread with updateWorkers 0).
        const evaluations = o.updateWorkers > 0 ? this.startedPool() : inThreadEvaluations(this.opener);
        const result = await openEvaluateReply(ack.data.value, binding, clientId, evaluations, o.maxMetricKeys);
        evaluation.results.push({ clientId, numExamples: result.numExamples, metrics: result.metrics });
      } catch (err) {
        const info = failFrom(err);
        failed(info.ok ? 'INTERNAL' : info.error.code, err instanceof Error ? err.message : String(err));
      } finally {
        // Settled only once the result (or failure) is recorded: the opening is asynchronous now.
        evaluation.settled();
      }
    });
  }

  /** Keeps the task in flight until its answer is handled, then wakes the dispatcher for the freed client. */
  private track(task: Task, answer: Promise<RequestOutcome>, handle: (answer: RequestOutcome) => void | Promise<void>): void {
    this.inFlight.set(task.clientId, task);
    void answer
      .then(handle)
      .catch((err: unknown) => this.deps.logger.error({ clientId: task.clientId, ...errorFields(err) }, 'handling a buffered answer failed'))
      .finally(() => {
        if (this.inFlight.get(task.clientId) === task) this.inFlight.delete(task.clientId);
        this.wake();
      });
  }

  private async fitAnswered(task: Task, answer: RequestOutcome): Promise<void> {
    try {
      await this.fitVerdict(task, answer);
    } finally {
      // Accepted, refused or gone: the task is over, and its slot (granted, queued or never asked) goes to the next device.
      task.stopListening?.();
      this.slots?.forget(task.taskId);
    }
  }

  private async fitVerdict(task: Task, answer: RequestOutcome): Promise<void> {
    const { logger } = this.deps;
    if (answer.kind === 'failure') {
      this.failed(task, answer.code, answer.message);
      if (answer.code === 'TIMEOUT') this.notify(task, { code: 'ROUND_CLOSED', message: answer.message });
      return;
    }
    const ack = fitAckSchema.safeParse(answer.reply);
    if (!ack.success) {
      const message = `malformed round:fit ack: ${ack.error.issues[0]?.message ?? 'invalid'}`;
      this.failed(task, 'INVALID_PAYLOAD', message);
      return this.notify(task, { code: 'INVALID_PAYLOAD', message });
    }
    if (!ack.data.ok) return this.failed(task, knownCode(ack.data.error.code), `client reported: ${ack.data.error.message}`);
    try {
      await this.accept(task, ack.data.value);
      this.notify(task, undefined);
    } catch (err) {
      const info = failFrom(err);
      const error: ErrorInfo = info.ok ? { code: 'INTERNAL', message: 'unexpected' } : info.error;
      if (error.code === 'INTERNAL') logger.error({ clientId: task.clientId, ...errorFields(err) }, 'unexpected error while validating an update');
      else logger.warn({ clientId: task.clientId, code: error.code, reason: error.message }, 'update rejected');
      this.failed(task, error.code, error.message);
      this.notify(task, error);
    }
  }

  /**
   * Checks one answer and puts it in the buffer; throws the ProtocolError that says why not (then
   * nothing has changed: a stale update is refused before it is even opened).
   */
  private async accept(task: Task, value: unknown): Promise<void> {
    const { state, options: o } = this.deps;
    if (this.abort.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
    if (this.finished()) throw new ProtocolError('ROUND_CLOSED', `the run has committed its ${String(o.rounds)} versions`);
    const envelope: SealedEnvelope = parseFitReply(value);
    // Paced: refused unless it came through a live slot at least its size (nothing opened, counted or summed then).
    this.slots?.use(task.taskId, envelope.ciphertext.length);
    this.refuseIfStale(task);
    const binding = { roundId: task.roundId, clientId: task.clientId, taskId: task.taskId, modelVersion: task.baseVersion };
    if (o.updateWorkers > 0) return this.acceptPooled(this.startedPool(), task, envelope, binding);
    const payload = await openValidatedUpdate(envelope, binding, this.opener, state.global.manifest, this.updateLimits());
    // Opening awaits: a version may have been committed meanwhile, so staleness is measured again, as accepted.
    if (this.abort.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
    const staleness = this.refuseIfStale(task);
    const weight = stalenessWeight(o.buffered.staleness, staleness);
    if (weight !== 1) for (let i = 0; i < payload.delta.length; i++) payload.delta[i]! *= weight;
    const buffer = this.currentBuffer();
    // The validator's norm is the delta's as received: it is the policy's measure only when no weight scaled it.
    buffer.input.add(
      task.clientId,
      { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights },
      weight === 1 ? payload.norm : undefined,
    );
    this.accepted(buffer, task, staleness, payload);
  }

  /**
   * accept()'s second half with the update pool: a worker opens and validates the envelope (under the same
   * binding and limits, with the same refusal codes); the main thread then measures staleness, and the worker
   * weights the delta, applies the policy's bounds and adds it to its partial sums. The apply is posted in the
   * same tick as the update is counted in the buffer, so the cut at that buffer's commit holds exactly its
   * updates (and their bounds' tally). An update whose worker dies before that cut is in the cut's `lost`. A
   * buffering strategy (or a policy still warming up) takes the update back instead, as in sync rounds.
   */
  private async acceptPooled(pool: UpdatePool, task: Task, envelope: SealedEnvelope, binding: EnvelopeBinding): Promise<void> {
    const { state, options: o } = this.deps;
    this.poolReady(pool, state.global.manifest);
    // Keyed by task id: a device may have several updates in one buffer, and a lost one is named by its task.
    const opened = await pool.open(task.taskId, envelope, binding);
    let staleness: number;
    try {
      if (this.abort.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
      staleness = this.refuseIfStale(task);
    } catch (err) {
      pool.discard(opened);
      throw err;
    }
    const weight = stalenessWeight(o.buffered.staleness, staleness);
    const buffer = this.currentBuffer();
    if (!buffer.input.canStream()) return this.acceptTaken(pool, opened, task);
    const rowNorms = weight === 1 ? opened.rowNorms : opened.rowNorms.map((n) => n * weight);
    const bounds = buffer.input.decide(opened.received * weight, opened.numExamples, rowNorms);
    pool.apply(opened, bounds, weight);
    this.accepted(buffer, task, staleness, opened);
  }

  /** A pooled update that must come back to the main thread (buffering strategy, warming policy): weighted and added here. */
  private async acceptTaken(pool: UpdatePool, opened: OpenedUpdate, task: Task): Promise<void> {
    const update = await pool.take(opened);
    if (this.abort.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
    // Taking awaits: staleness is measured again, and the weight follows it.
    const staleness = this.refuseIfStale(task);
    const w = stalenessWeight(this.deps.options.buffered.staleness, staleness);
    if (w !== 1) for (let i = 0; i < update.delta.length; i++) update.delta[i]! *= w;
    const buffer = this.currentBuffer();
    buffer.input.add(task.clientId, update);
    this.accepted(buffer, task, staleness, { numExamples: update.numExamples, metrics: opened.metrics });
  }

  /** Counts an update into the buffer's bookkeeping (its delta is in the buffer's sums or on its way there); commits a full buffer. */
  private accepted(buffer: OpenBuffer, task: Task, staleness: number, u: { numExamples: number; metrics: Record<string, number> }): void {
    buffer.contributions.push({
      clientId: task.clientId,
      roundId: task.roundId,
      taskId: task.taskId,
      staleness,
      numExamples: u.numExamples,
      metrics: u.metrics,
    });
    this.stats.acceptedAt(staleness);
    if (buffer.size >= this.deps.options.buffered.bufferSize) this.commit(buffer);
  }

  /** The update pool, started on first use. */
  private startedPool(): UpdatePool {
    const o = this.deps.options;
    this.pool ??= new UpdatePool({
      size: o.updateWorkers,
      secretKey: this.deps.keyPair.secretKey,
      ...(o.maxUpdatesInFlight ? { maxInFlight: o.maxUpdatesInFlight } : {}),
    });
    return this.pool;
  }

  /** Starts a pool round for the model's manifest when there is none for it yet (first update, catalogue growth). */
  private poolReady(pool: UpdatePool, manifest: WeightManifest): void {
    if (this.poolRound?.manifest === manifest) return;
    const id = (this.poolRound?.id ?? 0) + 1;
    pool.beginRound(id, manifest, this.updateLimits());
    this.poolRound = { id, manifest };
  }

  /** The limits every update is checked against, on the main thread or in the pool. */
  private updateLimits(): UpdateLimits {
    const o = this.deps.options;
    return { maxUpdateBytes: o.maxUpdateBytes, maxExamplesPerUpdate: o.maxExamplesPerUpdate, maxMetricKeys: o.maxMetricKeys };
  }

  /** Refuses (STALE_UPDATE) an update too many versions behind, or trained before the catalogue grew; returns its staleness. */
  private refuseIfStale(task: Task): number {
    const { state, options: o } = this.deps;
    const staleness = state.modelVersion - task.baseVersion;
    if (staleness > o.buffered.maxStaleness) {
      this.stats.refused();
      throw new ProtocolError(
        'STALE_UPDATE',
        `trained on version ${task.baseVersion}, ${staleness} versions behind ${state.modelVersion}; maxStaleness is ${o.buffered.maxStaleness}`,
      );
    }
    if (task.manifest !== state.global.manifest) {
      this.stats.refused();
      throw new ProtocolError('STALE_UPDATE', `trained on version ${task.baseVersion}, before the catalogue grew; train on the current model`);
    }
    return staleness;
  }

  /** The buffer updates go into now; a new one (a new round id) after a commit, or when the catalogue grew. */
  private currentBuffer(): OpenBuffer {
    const { state, options: o } = this.deps;
    if (this.buffer && this.buffer.manifest !== state.global.manifest) this.drop(this.buffer, 'the catalogue grew; the update was not applied');
    if (!this.buffer) {
      this.buffer = new OpenBuffer(state.nextRoundId++, state.global.manifest, state.updatePolicy, isBuffering(o.strategy));
      const roundId = this.buffer.roundId;
      this.deps.emit('round:started', { roundId, modelVersion: state.modelVersion, selected: [], deadline: this.buffer.startedAt + o.roundTimeoutMs });
    }
    return this.buffer;
  }

  /** Commits a full buffer as one round, after any commit before it, under the round engine's lock. */
  private commit(buffer: OpenBuffer): void {
    this.buffer = undefined;
    // With the pool, the cut is posted now, in the tick that filled the buffer: its sums hold exactly this buffer's applies.
    const collecting = this.pool ? pooledCollection(buffer, this.pool.cut()) : Promise.resolve(buffer.collection());
    const { state, logger } = this.deps;
    this.committing += 1;
    this.commits = this.commits
      .then(() =>
        this.rounds.betweenRounds(async () => {
          const collection = await collecting;
          if (buffer.manifest !== state.global.manifest) return void this.drop(buffer, 'the catalogue grew; the update was not applied');
          // A fixed run: buffers filled while its last version was being committed are not applied.
          if (this.finished()) return void this.drop(buffer, 'the run has committed all its versions; the update was not applied');
          const base = { global: state.global, modelVersion: state.modelVersion };
          const selected = [...collection.accepted, ...collection.failures.map((f) => f.clientId)];
          const draft = { roundId: buffer.roundId, startedAt: buffer.startedAt, selected, baseModelVersion: base.modelVersion };
          const outcome = await this.rounds.settleRound(draft, base, collection);
          if (outcome !== 'committed') return;
          this.stats.commits += 1;
          await this.maybeEvaluate(buffer.roundId);
        }),
      )
      .catch((err: unknown) => {
        logger.error(errorFields(err), 'committing a buffer failed');
        this.deps.emit('engine:error', err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        this.committing -= 1;
        this.wake();
      });
  }

  /** Every evaluateEvery-th version, and a fixed run's last: evaluated by the chosen clients as they come free. */
  private async maybeEvaluate(roundId: number): Promise<void> {
    const { options: o, state, registry, logger } = this.deps;
    const final = o.rounds !== 'continuous' && state.modelVersion >= o.rounds;
    if (o.evaluateEvery === 0 || (state.modelVersion % o.evaluateEvery !== 0 && !final)) return;
    if (this.evaluation) {
      logger.info(
        { modelVersion: state.modelVersion, evaluating: this.evaluation.modelVersion },
        'an evaluation is still running; this version is not evaluated',
      );
      if (final) this.finalEvaluationDue = true;
      return;
    }
    const clients = registry.list();
    const chosen = await o.strategy.configureEvaluate({
      roundId,
      modelVersion: state.modelVersion,
      global: state.global,
      clients,
      sampleSize: resolveSampleSize(o.clientsPerRound, clients.length),
      config: o.trainingConfig,
    });
    const deadline = Date.now() + o.roundTimeoutMs;
    this.evaluation = new PendingEvaluation(
      roundId,
      state.modelVersion,
      encodeWeights(state.global),
      deadline,
      chosen.map((c) => c.clientId),
    );
  }

  /** Puts a finished evaluation into its version's history record, checkpoints it, and says so. */
  private async finishEvaluation(): Promise<void> {
    const evaluation = this.evaluation!;
    this.evaluation = undefined;
    const { state, options: o, logger } = this.deps;
    const record = await evaluation.record(o.strategy);
    const entry = [...state.history].reverse().find((r) => r.outcome === 'committed' && r.modelVersion === evaluation.modelVersion);
    if (entry) {
      entry.evaluation = record;
      await this.rounds
        .betweenRounds(() =>
          this.deps.persist({
            global: state.global,
            modelSpec: state.modelSpec,
            modelVersion: state.modelVersion,
            nextRoundId: state.nextRoundId,
            history: state.history,
          }),
        )
        .catch((err: unknown) => logger.error(errorFields(err), 'checkpoint after an evaluation failed'));
      this.deps.emit('round:evaluated', entry);
    }
    if (this.finalEvaluationDue) {
      this.finalEvaluationDue = false;
      if (evaluation.modelVersion !== state.modelVersion) await this.maybeEvaluate(state.nextRoundId - 1);
    }
  }

  /** Drops a buffer that will never commit, telling each device its update was not applied; returns the sockets told. */
  private drop(buffer: OpenBuffer, reason: string): ClientSocket[] {
    if (this.buffer === buffer) this.buffer = undefined;
    this.stats.droppedUpdates(buffer.size);
    if (buffer.size > 0) this.deps.logger.warn({ roundId: buffer.roundId, updates: buffer.size, reason }, 'buffer dropped');
    const told: ClientSocket[] = [];
    for (const c of buffer.contributions) {
      const socket = this.deps.registry.get(c.clientId);
      const result: RoundResult = { roundId: c.roundId, taskId: c.taskId, accepted: false, error: { code: 'ROUND_CLOSED', message: reason } };
      if (!socket?.connected) continue;
      socket.emit('round:result', result);
      told.push(socket);
    }
    return told;
  }

  private failed(task: Task, code: FailureCode, message: string): void {
    this.buffer?.failures.push({ clientId: task.clientId, taskId: task.taskId, phase: 'fit', code, message });
  }

  /** Tells a device the verdict on its update (best effort: it may already be gone). */
  private notify(task: Task, error: ErrorInfo | undefined): void {
    const result: RoundResult = { roundId: task.roundId, taskId: task.taskId, accepted: error === undefined, ...(error ? { error } : {}) };
    if (task.socket.connected) task.socket.emit('round:result', result);
  }

  /** The newest model, encoded once per version for every task that carries it. */
  private wireWeights(): { modelVersion: number; global: Weights; weights: WireWeights } {
    const { state } = this.deps;
    if (this.wire?.modelVersion !== state.modelVersion || this.wire.global !== state.global)
      this.wire = { modelVersion: state.modelVersion, global: state.global, weights: encodeWeights(state.global) };
    return this.wire;
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      if (signal.aborted || this.woken) {
        this.woken = false;
        return resolve();
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }
}

/** A buffer's collection once the workers have handed over its sums. */
async function pooledCollection(buffer: OpenBuffer, cut: Promise<PooledSums>): Promise<FitCollection> {
  return buffer.collection(await cut);
}

/**
 * Waits (at most a second) until the notices sent to these sockets have left Socket.IO's write buffers,
 * so a stopping coordinator does not close the connections under them.
 */
async function flushed(sockets: readonly ClientSocket[]): Promise<void> {
  const pending = (): boolean => sockets.some((s) => s.connected && (s.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length > 0);
  for (let waited = 0; pending() && waited < 1000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
}
