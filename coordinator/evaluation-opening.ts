import { decodeEvaluateMetrics, evaluateBinding, parseEvaluateReply } from '@fedrec/protocol';
import type { EnvelopeBinding, EnvelopeOpener, EvaluateMetrics, SealedEnvelope } from '@fedrec/protocol';
import { checkMetricKeys } from './metric-keys.js';

/**
 * Where a sealed evaluate result is opened: an update worker (UpdatePool.openEvaluation, the default) or the
 * main thread (inThreadEvaluations, with updateWorkers 0). Either way the same code runs (openEvaluation below),
 * so the verdicts and refusal codes do not depend on the path.
 */
export interface EvaluationOpener {
  openEvaluation(envelope: SealedEnvelope, binding: EnvelopeBinding, maxMetricKeys: number | undefined): Promise<EvaluateMetrics>;
}

/**
 * Opens and checks one sealed evaluate result: ENVELOPE_REJECTED when altered or bound elsewhere,
 * INVALID_PAYLOAD when the plaintext is not a result, TOO_LARGE past the metric-name cap.
 */
export async function openEvaluation(
  opener: EnvelopeOpener,
  envelope: SealedEnvelope,
  binding: EnvelopeBinding,
  maxMetricKeys: number | undefined,
): Promise<EvaluateMetrics> {
  const result = decodeEvaluateMetrics(await opener.open(envelope, binding));
  checkMetricKeys(result.metrics, maxMetricKeys);
  return result;
}

/** The main thread's opener (updateWorkers 0; a collector without a pool). */
export function inThreadEvaluations(opener: EnvelopeOpener): EvaluationOpener {
  return { openEvaluation: (envelope, binding, maxMetricKeys) => openEvaluation(opener, envelope, binding, maxMetricKeys) };
}

/**
 * Opens a plain `round:evaluate` reply: the sealed result bound to this task and kind 'evaluate'
 * (INVALID_PAYLOAD when unsealed or malformed, TOO_LARGE past the size cap, both before any decryption; then
 * openEvaluation's codes). The plain evaluate phase and buffered mode both call it.
 */
export function openEvaluateReply(
  value: unknown,
  task: { roundId: number; taskId: string; modelVersion: number },
  clientId: string,
  evaluations: EvaluationOpener,
  maxMetricKeys: number | undefined,
): Promise<EvaluateMetrics> {
  return evaluations.openEvaluation(parseEvaluateReply(value), evaluateBinding(task, clientId), maxMetricKeys);
}
