import { ProtocolError } from '@fedrec/protocol';
import { trainFit, type SentUpdate, type TrainedFit } from './round-tasks.js';
import type { SecAggParticipantHost } from './secagg-participant-host.js';
import type { TaskContext } from './trainer.js';
import { privatizeTrained } from './privacy/device-privacy.js';

/** What a fit needs from the task runner hosting it. */
export type FitHost = Pick<SecAggParticipantHost, 'trainer' | 'isBusy' | 'exclusive' | 'fitStarted' | 'fitDone' | 'fitFailed'>;

export interface FitTaskMeta {
  roundId: number;
  taskId: string;
  modelVersion: number;
}

/** A fit under way: training runs now, under the one-task rule; the stage that sends the result finishes it. */
export interface FitRun {
  task: FitTaskMeta;
  /** Settles with the checked outcome (and the context it trained on), or TRAINING_FAILED / INVALID_PAYLOAD. */
  trained: Promise<TrainedFit & { ctx: TaskContext }>;
  startedAt: number;
}

/**
 * Starts one fit, the same way for plain and secure-aggregation tasks: BUSY while another task runs,
 * `fit:start`, then the task's context (decoded once training starts) and the trainer.
 */
export function startFit(host: FitHost, task: FitTaskMeta, context: () => TaskContext, now: () => number = Date.now): FitRun {
  if (host.isBusy()) throw new ProtocolError('BUSY', 'this client is already running a task');
  const meta = { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion };
  const startedAt = now();
  const trained = host.exclusive(async () => {
    host.fitStarted(meta);
    const ctx = context();
    // Under DP, clipping (and, under secure aggregation, this device's share of the noise) happens here, before sealing or masking.
    return { ...privatizeTrained(await trainFit(host.trainer, ctx), ctx), ctx };
  });
  return { task: meta, trained, startedAt };
}

/**
 * Finishes a fit: waits for training (a failure there is this task's `task:failed`), then seals or
 * masks it through `send`, whose own refusals are the caller's to report, and announces `fit:done`.
 */
export async function finishFit<R>(
  host: FitHost,
  run: FitRun,
  send: (trained: TrainedFit & { ctx: TaskContext }) => SentUpdate<R> | Promise<SentUpdate<R>>,
  now: () => number = Date.now,
): Promise<R> {
  let trained;
  try {
    trained = await run.trained;
  } catch (err) {
    host.fitFailed(run.task, err);
    throw err;
  }
  const sent = await send(trained);
  host.fitDone({
    roundId: run.task.roundId,
    taskId: run.task.taskId,
    numExamples: trained.outcome.numExamples,
    bytesSent: sent.bytesSent,
    metrics: trained.metrics,
    durationMs: now() - run.startedAt,
  });
  return sent.reply;
}
