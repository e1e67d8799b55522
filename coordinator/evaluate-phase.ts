import { encodeWeights, evaluateReplySchema } from '@fedrec/protocol';
import type { EvaluateTask } from '@fedrec/protocol';
import { ackSchema, knownCode } from './ack.js';
import type { Failure } from './failure.js';
import type { TaskPhaseContext } from './fit-collector.js';
import { requestWithDeadline } from './request.js';
import type { EvaluationRecord } from './round-record.js';
import type { EvaluateResult, Strategy } from './strategy/strategy.js';
import { taskFor } from './task.js';

const evaluateAckSchema = ackSchema(evaluateReplySchema);

export interface EvaluatePhaseContext extends TaskPhaseContext {
  strategy: Strategy;
}

/** Sends `round:evaluate` to the chosen clients and lets the strategy aggregate what comes back. */
export async function runEvaluatePhase(ctx: EvaluatePhaseContext): Promise<EvaluationRecord> {
  const weights = encodeWeights(ctx.global);
  const results: EvaluateResult[] = [];
  const failures: Failure[] = [];
  await Promise.all(
    ctx.assignments.map(async (a) => {
      const task: EvaluateTask = taskFor(ctx, a, weights);
      const fail = (code: Failure['code'], message: string): void => {
        failures.push({ clientId: a.clientId, taskId: a.taskId, phase: 'evaluate', code, message });
      };
      const outcome = await requestWithDeadline(a.socket, 'round:evaluate', task, ctx.deadline, ctx.signal);
      if (outcome.kind === 'failure') return fail(outcome.code, outcome.message);
      const ack = evaluateAckSchema.safeParse(outcome.reply);
      if (!ack.success) return fail('INVALID_PAYLOAD', `evaluate reply: ${ack.error.issues[0]?.message ?? 'invalid'}`);
      if (!ack.data.ok) return fail(knownCode(ack.data.error.code), `client reported: ${ack.data.error.message}`);
      results.push({ clientId: a.clientId, numExamples: ack.data.value.numExamples, metrics: ack.data.value.metrics });
    }),
  );
  const metrics = await ctx.strategy.aggregateEvaluate(ctx.roundId, results, failures);
  return {
    modelVersion: ctx.modelVersion,
    participants: results.map((r) => r.clientId),
    failures,
    numExamples: results.reduce((n, r) => n + r.numExamples, 0),
    metrics,
  };
}
