import { z } from 'zod';
import { ProtocolError, mergeAggregateSums } from '@fedrec/protocol';
import type { EnvelopeBinding, ErrorInfo, RoundResult, SealedEnvelope } from '@fedrec/protocol';
import { dispatchPhase } from './dispatch-phase.js';
import type { EvaluationOpener } from './evaluation-opening.js';
import type { Failure } from './failure.js';
import type { FitAssignment, FitCollection, FitCollector, FitRoundContext } from './fit-collector.js';
import { errorFields } from './logger.js';
import { RoundLedger } from './round-ledger.js';
import { RoundInput } from './strategy/round-input.js';
import { UpdatePolicy } from './strategy/update-policy.js';
import { weightedMetricMean } from './strategy/fedavg-math.js';
import { UpdatePool, type PooledSums } from './update-pool/update-pool.js';
import { DEFAULT_UPLOAD_BUDGET_BYTES, DEFAULT_UPLOAD_SLOT_HOLD_MS, UploadDesk } from './update-pool/upload-desk.js';
import type { UploadSlots } from './update-pool/upload-slots.js';
import { openValidatedUpdate, parseFitReply } from './update-validation.js';
import { taskFor } from './task.js';

export interface PlainFitCollectorOptions {
  /**
   * Worker threads that open, validate and accumulate updates off the event loop (update-pool/). 0 (the
   * default when constructing a collector directly) keeps everything on the main thread; the coordinator's
   * options default to every core but one.
   */
  updateWorkers?: number;
  /** Most updates in flight in the pool (back-pressure); default 2 per worker. */
  maxUpdatesInFlight?: number;
  /**
   * Upload pacing (update-pool/upload-desk.ts): most sealed bytes granted upload slots at once; 0 = off
   * (devices answer as soon as they have trained, main's behaviour before pacing). Default 64 MiB.
   */
  uploadBudgetBytes?: number;
  /** How long a granted slot waits for its upload; default 60 s. */
  uploadSlotHoldMs?: number;
}

/**
 * The collector without secure aggregation: each reply is a sealed envelope the coordinator
 * opens, validates and hands to the round's input (norm bound, weight cap, then the running sums,
 * and the buffer of a buffering strategy), then forgets. With update workers, the opening, validation,
 * bounding and summing happen in the pool's threads; the main thread only decides each update's bounds
 * (the policy's history is one sequence) and merges the partial sums at the end.
 */
export class PlainFitCollector implements FitCollector {
  readonly name = 'plain';
  private pool: UpdatePool | undefined;
  private poolKey: Uint8Array | undefined;
  private lastDesk: UploadDesk | undefined;

  constructor(private readonly options: PlainFitCollectorOptions = {}) {}

  /** The pool, once a round has started one (for metrics and tests). */
  get updatePool(): UpdatePool | undefined {
    return this.pool;
  }

  /** The upload slots of the latest round (for tests and benchmarks: the peak bytes granted at once). */
  get uploadSlots(): UploadSlots | undefined {
    return this.lastDesk?.slots;
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }

  async collect(ctx: FitRoundContext): Promise<FitCollection> {
    const input = ctx.roundInput ?? new RoundInput(ctx.global.manifest, new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' }), false);
    const ledger = new RoundLedger(ctx.roundId, ctx.assignments);
    const byId = new Map(ctx.assignments.map((a) => [a.clientId, a]));
    const pool = this.poolFor(ctx.keyPair.secretKey);
    pool?.beginRound(ctx.roundId, ctx.global.manifest, ctx.limits);
    const budgetBytes = this.options.uploadBudgetBytes ?? DEFAULT_UPLOAD_BUDGET_BYTES;
    const desk =
      budgetBytes > 0
        ? new UploadDesk(
            { roundId: ctx.roundId, assignments: ctx.assignments, limits: ctx.limits, logger: ctx.logger },
            { budgetBytes, holdMs: this.options.uploadSlotHoldMs ?? DEFAULT_UPLOAD_SLOT_HOLD_MS },
          )
        : undefined;
    this.lastDesk = desk;

    const take = async (
      clientId: string,
      envelope: SealedEnvelope,
      binding: EnvelopeBinding,
    ): Promise<{ numExamples: number; metrics: Record<string, number> }> => {
      if (!pool) {
        const payload = await openValidatedUpdate(envelope, binding, ctx.opener, ctx.global.manifest, ctx.limits);
        if (ctx.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
        input.add(clientId, { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights }, payload.norm);
        return { numExamples: payload.numExamples, metrics: payload.metrics };
      }
      const opened = await pool.open(clientId, envelope, binding);
      if (ctx.signal.aborted) {
        pool.discard(opened);
        throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
      }
      if (input.canStream()) pool.apply(opened, input.decide(opened.received, opened.numExamples, opened.rowNorms));
      else input.add(clientId, await pool.take(opened));
      return { numExamples: opened.numExamples, metrics: opened.metrics };
    };

    // Built as they are sent (dispatchPhase sends them in slices, a turn of the event loop apart): a round of
    // thousands does not build every task, and register every upload:slot listener, in one turn.
    function* requests() {
      for (const a of ctx.assignments) {
        desk?.listen(a);
        yield { clientId: a.clientId, socket: a.socket, payload: { ...taskFor(ctx, a), ...(desk ? { uploadSlot: true as const } : {}) } };
      }
    }
    const outcome = dispatchPhase({
      event: 'round:fit',
      requests: requests(),
      // The envelope is parsed by parseFitReply inside accept, so a bad one is a rejected update, not a malformed ack.
      reply: z.unknown(),
      deadline: ctx.deadline,
      signal: ctx.signal,
      accept: async (clientId, value) => {
        const a = byId.get(clientId)!;
        ledger.claim(ctx.roundId, a.taskId, a.clientId);
        const envelope = parseFitReply(value);
        // Paced: refused unless it came through a slot at least its size (nothing is opened or summed then).
        desk?.admit(clientId, envelope.ciphertext.length);
        const binding = { roundId: ctx.roundId, clientId: a.clientId, taskId: a.taskId, modelVersion: ctx.modelVersion };
        return take(clientId, envelope, binding);
      },
      settled: (clientId, verdict) => {
        const a = byId.get(clientId)!;
        desk?.release(clientId); // accepted, refused or gone: its slot goes to the next device
        if (verdict.ok) return notify(a, ctx.roundId, undefined);
        const { code, message, reason, error } = verdict.failure;
        if (reason === 'rejected') {
          if (code === 'INTERNAL' || code === 'UPDATE_WORKER_FAILED')
            ctx.logger.error({ clientId, code, ...errorFields(error) }, 'unexpected error while validating an update');
          else ctx.logger.warn({ clientId, code, reason: message }, 'update rejected');
        }
        // A client that refused knows why; one that timed out or sent garbage learns the round is closed to it.
        if (reason === 'rejected' || reason === 'malformed') notify(a, ctx.roundId, { code: code as ErrorInfo['code'], message });
        else if (code === 'TIMEOUT') notify(a, ctx.roundId, { code: 'ROUND_CLOSED', message });
      },
    }).finally(() => desk?.close());
    const { results, failures } = await outcome;
    ledger.close();
    let pooled: PooledSums | undefined;
    if (pool && ctx.signal.aborted)
      pool.abandonRound(); // the coordinator is stopping: nothing will use these sums, do not wait for the workers
    else if (pool) pooled = await pool.finishRound();
    if (pooled) input.tally(pooled.tally);
    const { sums, updates, clipped, weightCapped } = input.finish();
    const allFailures = failures.map(({ clientId, code, message }): Failure => ({ clientId, taskId: byId.get(clientId)!.taskId, phase: 'fit', code, message }));
    let accepted = results;
    if (pooled) {
      mergeAggregateSums(sums, pooled.sums);
      if (pooled.lost.size > 0) {
        // Accepted updates that died with a crashed worker are not in the sums: they become failures.
        ctx.logger.error({ lost: pooled.lost.size }, 'an update worker crashed: its accepted updates are not in the sums');
        accepted = results.filter((r) => !pooled.lost.has(r.clientId));
        for (const clientId of pooled.lost) {
          allFailures.push({
            clientId,
            taskId: byId.get(clientId)!.taskId,
            phase: 'fit',
            code: 'UPDATE_WORKER_FAILED',
            message: 'update worker crashed after accepting this update',
          });
        }
      }
    }
    return {
      sums,
      ...(updates ? { updates } : {}),
      clipped,
      weightCapped,
      accepted: accepted.map((r) => r.clientId),
      failures: allFailures,
      metrics: weightedMetricMean(accepted.map((r) => r.result)),
    };
  }

  /** The update pool opens evaluate results too, off the event loop (none with 0 workers: the main thread does). */
  evaluationOpener(secretKey: Uint8Array): EvaluationOpener | undefined {
    return this.poolFor(secretKey);
  }

  /** The pool for this coordinator key, started on the first round (none with 0 workers). */
  private poolFor(secretKey: Uint8Array): UpdatePool | undefined {
    const size = this.options.updateWorkers ?? 0;
    if (size === 0) return undefined;
    if (this.pool && this.poolKey !== secretKey) {
      void this.pool.close();
      this.pool = undefined;
    }
    if (!this.pool) {
      this.pool = new UpdatePool({ size, secretKey, ...(this.options.maxUpdatesInFlight ? { maxInFlight: this.options.maxUpdatesInFlight } : {}) });
      this.poolKey = secretKey;
    }
    return this.pool;
  }
}

/** Tells a client the verdict on its result (best effort: it may already be gone). */
function notify(a: FitAssignment, roundId: number, error: ErrorInfo | undefined): void {
  const result: RoundResult = { roundId, taskId: a.taskId, accepted: error === undefined, ...(error ? { error } : {}) };
  if (a.socket.connected) a.socket.emit('round:result', result);
}
