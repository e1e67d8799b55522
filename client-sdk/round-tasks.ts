import {
  ProtocolError,
  allFinite,
  encodeEvaluateMetrics,
  ENVELOPE_TAG_BYTES,
  evaluateBinding,
  rowWeightsSize,
  sharedSize,
  type EnvelopeSealer,
  type EvaluateMetrics,
  type EvaluateReply,
  type ParsedEvaluateTask,
  type ParsedFitTask,
  type Compression,
  type SealedEnvelope,
  type Weights,
} from '@fedrec/protocol';
import { decodedModels } from './decoded-models.js';
import { errorMessage } from './errors.js';
import { ErrorFeedback } from './error-feedback.js';
import type { EvaluateOutcome, FitOutcome, TaskContext, Trainer } from './trainer.js';

function decodeTaskWeights(wire: unknown): Weights {
  try {
    // A task's weights are the device's held copy: decoded once per download, not once per task.
    return decodedModels.decode(wire);
  } catch (err) {
    throw new ProtocolError('INVALID_PAYLOAD', `task weights: ${errorMessage(err)}`);
  }
}

export function taskContext(task: ParsedFitTask | ParsedEvaluateTask): TaskContext {
  return {
    roundId: task.roundId,
    modelVersion: task.modelVersion,
    config: task.config,
    modelSpec: task.modelSpec,
    global: decodeTaskWeights(task.weights),
  };
}

/** NaN and Infinity do not survive JSON: drop them rather than send a header the coordinator rejects. */
export function finiteMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
}

/** A trainer's result must fit the manifest exactly: this is also what keeps private tensors out. */
export function checkFitOutcome(outcome: FitOutcome, global: Weights): void {
  const expected = sharedSize(global.manifest);
  if (!(outcome.delta instanceof Float32Array) || outcome.delta.length !== expected) {
    throw new Error(`delta has ${outcome.delta?.length} floats, the shared manifest has ${expected}`);
  }
  if (!allFinite(outcome.delta)) throw new Error('delta contains non-finite values');
  if (!Number.isFinite(outcome.numExamples) || outcome.numExamples < 0) throw new Error(`bad numExamples ${outcome.numExamples}`);
  const rows = rowWeightsSize(global.manifest);
  if (rows > 0 || outcome.rowWeights !== undefined) {
    if (!(outcome.rowWeights instanceof Float32Array) || outcome.rowWeights.length !== rows) {
      throw new Error(`rowWeights has ${outcome.rowWeights?.length ?? 0} floats, the manifest's rowwise tensors need ${rows}`);
    }
    if (!allFinite(outcome.rowWeights)) throw new Error('rowWeights contain non-finite values');
  }
}

/** A trainer's checked result for one fit: what a fit is finished with (sealed, or masked). */
export interface TrainedFit {
  outcome: FitOutcome;
  /** The outcome's metrics without NaN/Infinity. */
  metrics: Record<string, number>;
}

/** What finishing a fit sends: the reply, and how many bytes of it leave the device. */
export interface SentUpdate<R> {
  reply: R;
  bytesSent: number;
}

/** Runs the trainer and checks its result against the manifest; any failure is TRAINING_FAILED. */
export async function trainFit(trainer: Trainer, ctx: TaskContext): Promise<TrainedFit> {
  try {
    const outcome = await trainer.fit(ctx);
    checkFitOutcome(outcome, ctx.global);
    return { outcome, metrics: finiteMetrics(outcome.metrics ?? {}) };
  } catch (err) {
    throw new ProtocolError('TRAINING_FAILED', errorMessage(err));
  }
}

/** Seals a trained fit to the coordinator, bound to this task (the plain, unmasked path). */
export async function sealUpdate(
  trained: TrainedFit,
  task: ParsedFitTask,
  global: Weights,
  clientId: string,
  sealer: EnvelopeSealer,
  wire: { compression?: Compression; feedback?: ErrorFeedback } = {},
): Promise<SentUpdate<{ envelope: SealedEnvelope }>> {
  const { outcome, metrics } = trained;
  const payload = {
    numExamples: outcome.numExamples,
    metrics,
    delta: outcome.delta,
    ...(outcome.rowWeights && outcome.rowWeights.length > 0 ? { rowWeights: outcome.rowWeights } : {}),
  };
  // With the manifest, rows this device never touched are left out of the payload, the rest padded to the run's
  // one size. Compressed in the run's encoding (the task says which); what quantizing or the row budget leaves
  // out goes into the next update. Encoded with room for the tag after it and sealed in place: no fresh pages
  // for the envelope.
  const compression = wire.compression ?? 'none';
  const plaintext = (wire.feedback ?? new ErrorFeedback()).encode(payload, global.manifest, compression, ENVELOPE_TAG_BYTES);
  const binding = { roundId: task.roundId, clientId, taskId: task.taskId, modelVersion: task.modelVersion };
  const envelope = await sealer.sealInPlace(plaintext, binding);
  return { reply: { envelope }, bytesSent: envelope.ciphertext.length + envelope.nonce.length + envelope.senderPublicKey.length };
}

/** Evaluates the global model locally: a count and scalar metrics (sealed, or masked, before they leave). */
export async function runEvaluateTask(task: ParsedEvaluateTask, trainer: Trainer): Promise<EvaluateMetrics> {
  const ctx = taskContext(task);
  let outcome: EvaluateOutcome;
  try {
    outcome = await trainer.evaluate(ctx);
  } catch (err) {
    throw new ProtocolError('TRAINING_FAILED', errorMessage(err));
  }
  if (!Number.isFinite(outcome.numExamples) || outcome.numExamples < 0) {
    throw new ProtocolError('TRAINING_FAILED', `bad numExamples ${outcome.numExamples}`);
  }
  return { numExamples: outcome.numExamples, metrics: finiteMetrics(outcome.metrics ?? {}) };
}

/**
 * Seals an evaluation result to the coordinator, bound to this task and to kind 'evaluate': in plain mode one
 * device's hr10 would tell a wire observer whether its held-out item ranked in its top 10.
 */
export async function sealEvaluation(result: EvaluateMetrics, task: ParsedEvaluateTask, clientId: string, sealer: EnvelopeSealer): Promise<EvaluateReply> {
  return { envelope: await sealer.seal(encodeEvaluateMetrics(result), evaluateBinding(task, clientId)) };
}
