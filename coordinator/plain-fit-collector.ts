import { z } from 'zod';
import { ProtocolError } from '@fedrec/protocol';
import type { ErrorInfo, RoundResult } from '@fedrec/protocol';
import { dispatchPhase } from './dispatch-phase.js';
import type { Failure } from './failure.js';
import type { FitAssignment, FitCollection, FitCollector, FitRoundContext } from './fit-collector.js';
import { errorFields } from './logger.js';
import { RoundLedger } from './round-ledger.js';
import { RoundInput } from './strategy/round-input.js';
import { UpdatePolicy } from './strategy/update-policy.js';
import { weightedMetricMean } from './strategy/fedavg-math.js';
import { openValidatedUpdate, parseFitReply } from './update-validation.js';
import { taskFor } from './task.js';

/**
 * The collector without secure aggregation: each reply is a sealed envelope the coordinator
 * opens, validates and hands to the round's input (norm bound, weight cap, then the running sums,
 * and the buffer of a buffering strategy), then forgets.
 */
export class PlainFitCollector implements FitCollector {
  readonly name = 'plain';

  async collect(ctx: FitRoundContext): Promise<FitCollection> {
    const input = ctx.roundInput ?? new RoundInput(ctx.global.manifest, new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' }), false);
    const ledger = new RoundLedger(ctx.roundId, ctx.assignments);
    const byId = new Map(ctx.assignments.map((a) => [a.clientId, a]));

    const { results, failures } = await dispatchPhase({
      event: 'round:fit',
      requests: ctx.assignments.map((a) => ({ clientId: a.clientId, socket: a.socket, payload: taskFor(ctx, a) })),
      // The envelope is parsed by parseFitReply inside accept, so a bad one is a rejected update, not a malformed ack.
      reply: z.unknown(),
      deadline: ctx.deadline,
      signal: ctx.signal,
      accept: (clientId, value) => {
        const a = byId.get(clientId)!;
        ledger.claim(ctx.roundId, a.taskId, a.clientId);
        const envelope = parseFitReply(value);
        const binding = { roundId: ctx.roundId, clientId: a.clientId, taskId: a.taskId, modelVersion: ctx.modelVersion };
        const payload = openValidatedUpdate(envelope, binding, ctx.opener, ctx.global.manifest, ctx.limits);
        if (ctx.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
        input.add(clientId, { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights });
        return { numExamples: payload.numExamples, metrics: payload.metrics };
      },
      settled: (clientId, verdict) => {
        const a = byId.get(clientId)!;
        if (verdict.ok) return notify(a, ctx.roundId, undefined);
        const { code, message, reason, error } = verdict.failure;
        if (reason === 'rejected') {
          if (code === 'INTERNAL') ctx.logger.error({ clientId, ...errorFields(error) }, 'unexpected error while validating an update');
          else ctx.logger.warn({ clientId, code, reason: message }, 'update rejected');
        }
        // A client that refused knows why; one that timed out or sent garbage learns the round is closed to it.
        if (reason === 'rejected' || reason === 'malformed') notify(a, ctx.roundId, { code: code as ErrorInfo['code'], message });
        else if (code === 'TIMEOUT') notify(a, ctx.roundId, { code: 'ROUND_CLOSED', message });
      },
    });
    ledger.close();
    const { sums, updates, clipped, weightCapped } = input.finish();
    return {
      sums,
      ...(updates ? { updates } : {}),
      clipped,
      weightCapped,
      accepted: results.map((r) => r.clientId),
      failures: failures.map(({ clientId, code, message }): Failure => ({ clientId, taskId: byId.get(clientId)!.taskId, phase: 'fit', code, message })),
      metrics: weightedMetricMean(results.map((r) => r.result)),
    };
  }
}

/** Tells a client the verdict on its result (best effort: it may already be gone). */
function notify(a: FitAssignment, roundId: number, error: ErrorInfo | undefined): void {
  const result: RoundResult = { roundId, taskId: a.taskId, accepted: error === undefined, ...(error ? { error } : {}) };
  if (a.socket.connected) a.socket.emit('round:result', result);
}
