import { z } from 'zod';
import { ProtocolError, encodeWeights, failFrom } from '@fedrec/protocol';
import type { ErrorInfo, FitTask, RoundResult } from '@fedrec/protocol';
import { ackSchema, knownCode } from './ack.js';
import type { Failure } from './failure.js';
import type { FitAssignment, FitCollection, FitCollector, FitRoundContext } from './fit-collector.js';
import { errorFields } from './logger.js';
import { requestWithDeadline } from './request.js';
import { RoundLedger } from './round-ledger.js';
import { UpdateAccumulator } from './strategy/aggregate-sums.js';
import { weightedMetricMean } from './strategy/fedavg-math.js';
import { openValidatedUpdate, parseFitReply } from './update-validation.js';
import { taskFor } from './task.js';

const fitAckSchema = ackSchema(z.unknown());

/**
 * The collector without secure aggregation: each reply is a sealed envelope the coordinator
 * opens, validates and streams into the running sums, then forgets.
 */
export class PlainFitCollector implements FitCollector {
  readonly name = 'plain';

  async collect(ctx: FitRoundContext): Promise<FitCollection> {
    const accumulator = new UpdateAccumulator(ctx.global.manifest);
    const ledger = new RoundLedger(ctx.roundId, ctx.assignments);
    const wireWeights = encodeWeights(ctx.global);
    const accepted: string[] = [];
    const failures: Failure[] = [];
    const reported: Array<{ numExamples: number; metrics: Record<string, number> }> = [];

    const handleOne = async (a: FitAssignment): Promise<void> => {
      const task: FitTask = taskFor(ctx, a, wireWeights);
      const fail = (code: Failure['code'], message: string): void => {
        failures.push({ clientId: a.clientId, taskId: a.taskId, phase: 'fit', code, message });
      };
      const outcome = await requestWithDeadline(a.socket, 'round:fit', task, ctx.deadline, ctx.signal);
      if (outcome.kind === 'failure') {
        fail(outcome.code, outcome.message);
        if (outcome.code === 'TIMEOUT') notify(a, ctx.roundId, { code: 'ROUND_CLOSED', message: outcome.message });
        return;
      }
      const ack = fitAckSchema.safeParse(outcome.reply);
      if (!ack.success) {
        fail('INVALID_PAYLOAD', 'fit ack is not { ok, value } or { ok, error }');
        notify(a, ctx.roundId, { code: 'INVALID_PAYLOAD', message: 'fit ack is not { ok, value } or { ok, error }' });
        return;
      }
      if (!ack.data.ok) {
        fail(knownCode(ack.data.error.code), `client reported: ${ack.data.error.message}`);
        return;
      }
      try {
        ledger.claim(ctx.roundId, a.taskId, a.clientId);
        const envelope = parseFitReply(ack.data.value);
        const binding = { roundId: ctx.roundId, clientId: a.clientId, taskId: a.taskId, modelVersion: ctx.modelVersion };
        const payload = openValidatedUpdate(envelope, binding, ctx.opener, ctx.global.manifest, ctx.limits);
        if (ctx.signal.aborted) throw new ProtocolError('ROUND_CLOSED', 'coordinator is stopping');
        accumulator.add(payload.numExamples, payload.delta, payload.rowWeights);
        accepted.push(a.clientId);
        reported.push({ numExamples: payload.numExamples, metrics: payload.metrics });
        notify(a, ctx.roundId, undefined);
      } catch (err) {
        const info = failFrom(err);
        const error = info.ok ? { code: 'INTERNAL' as const, message: 'unexpected' } : info.error;
        if (error.code === 'INTERNAL') ctx.logger.error({ clientId: a.clientId, ...errorFields(err) }, 'unexpected error while validating an update');
        else ctx.logger.warn({ clientId: a.clientId, code: error.code, reason: error.message }, 'update rejected');
        fail(error.code, error.message);
        notify(a, ctx.roundId, error);
      }
    };

    await Promise.all(ctx.assignments.map((a) => handleOne(a)));
    ledger.close();
    return { sums: accumulator.sums, accepted, failures, metrics: weightedMetricMean(reported) };
  }
}

/** Tells a client the verdict on its result (best effort: it may already be gone). */
function notify(a: FitAssignment, roundId: number, error: ErrorInfo | undefined): void {
  const result: RoundResult = { roundId, taskId: a.taskId, accepted: error === undefined, ...(error ? { error } : {}) };
  if (a.socket.connected) a.socket.emit('round:result', result);
}
