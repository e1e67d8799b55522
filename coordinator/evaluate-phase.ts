import { z } from 'zod';
import { encodeWeights, type WireWeights } from '@fedrec/protocol';
import { dispatchPhase } from './dispatch-phase.js';
import { openEvaluateReply, type EvaluationOpener } from './evaluation-opening.js';
import type { Failure } from './failure.js';
import type { FitCollector, TaskPhaseContext } from './fit-collector.js';
import type { Logger } from './logger.js';
import type { EvaluationRecord } from './round-record.js';
import type { EvaluateResult, Strategy } from './strategy/strategy.js';
import { taskFor } from './task.js';

export interface EvaluatePhaseContext extends TaskPhaseContext {
  strategy: Strategy;
  /** Most metric names one evaluate reply may carry (TOO_LARGE beyond); unset = no limit. */
  maxMetricKeys?: number;
  /** Clients whose task must carry the weights (a cluster's clients on other nodes: ClusterHooks.carriesModel). */
  carriesModel?: (socket: TaskPhaseContext['assignments'][number]['socket']) => boolean;
  /** Opens the plain path's sealed replies (an update pool's workers, or the main thread with the coordinator key). */
  evaluations: EvaluationOpener;
  /** The round's fit collector: when it can evaluate securely (secure aggregation), it runs the phase. */
  collector?: FitCollector;
  logger?: Logger;
}

/**
 * Sends `round:evaluate` to the chosen clients and lets the strategy aggregate what comes back. Under secure
 * aggregation the collector runs it instead: devices mask their results and the coordinator unmasks only the sum,
 * which the strategy gets as one result (the weighted means; per-device metrics never reach the coordinator).
 */
export async function runEvaluatePhase(ctx: EvaluatePhaseContext): Promise<EvaluationRecord> {
  if (ctx.collector?.evaluate && ctx.logger) {
    const secure = await ctx.collector.evaluate({ ...ctx, logger: ctx.logger });
    const results: EvaluateResult[] = secure.abandonReason
      ? []
      : [{ clientId: `secure-sum-of-${secure.participants.length}`, numExamples: secure.numExamples, metrics: secure.metrics }];
    const metrics = await ctx.strategy.aggregateEvaluate(ctx.roundId, results, secure.failures);
    return { modelVersion: ctx.modelVersion, participants: secure.participants, failures: secure.failures, numExamples: secure.numExamples, metrics };
  }
  const taskIdOf = new Map(ctx.assignments.map((a) => [a.clientId, a.taskId]));
  let inline: WireWeights | undefined; // encoded once, only when some client needs the weights inline
  const outcome = await dispatchPhase({
    event: 'round:evaluate',
    requests: ctx.assignments.map((a) => ({
      clientId: a.clientId,
      socket: a.socket,
      payload: ctx.carriesModel?.(a.socket) ? { ...taskFor(ctx, a), weights: (inline ??= encodeWeights(ctx.global, ctx.wire?.compression)) } : taskFor(ctx, a),
    })),
    // Checked in accept (openEvaluateReply), so an unsealed reply is refused by name, not as a schema mismatch.
    reply: z.unknown(),
    deadline: ctx.deadline,
    signal: ctx.signal,
    accept: async (clientId, value): Promise<EvaluateResult> => {
      const task = { roundId: ctx.roundId, taskId: taskIdOf.get(clientId) ?? '', modelVersion: ctx.modelVersion };
      const result = await openEvaluateReply(value, task, clientId, ctx.evaluations, ctx.maxMetricKeys);
      return { clientId, numExamples: result.numExamples, metrics: result.metrics };
    },
  });
  const results = outcome.results.map((r) => r.result);
  const failures = outcome.failures.map(({ clientId, code, message }): Failure => ({
    clientId,
    taskId: taskIdOf.get(clientId) ?? '',
    phase: 'evaluate',
    code,
    message,
  }));
  const metrics = await ctx.strategy.aggregateEvaluate(ctx.roundId, results, failures);
  return {
    modelVersion: ctx.modelVersion,
    participants: results.map((r) => r.clientId),
    failures,
    numExamples: results.reduce((n, r) => n + r.numExamples, 0),
    metrics,
  };
}
