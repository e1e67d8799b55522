import { ProtocolError } from './errors.js';
import { refuseLegacyEnvelope, type EnvelopeBinding, type SealedEnvelope } from './envelope.js';
import { evaluateMetricsSchema, evaluateReplySchema, type EvaluateMetrics } from './messages.js';

/**
 * The envelope kind of an evaluation result: bound into the additional data, so a sealed fit update cannot be
 * replayed as an evaluation (or the other way round) even within the same round, client and task.
 */
export const EVALUATE_ENVELOPE_KIND = 'evaluate';

/** Most bytes a sealed evaluation result may have: a count and a few metric names, never a model. */
export const MAX_EVALUATE_RESULT_BYTES = 16 * 1024;

/** The binding of a task's evaluation result. */
export function evaluateBinding(task: { roundId: number; taskId: string; modelVersion: number }, clientId: string): EnvelopeBinding {
  return { roundId: task.roundId, clientId, taskId: task.taskId, modelVersion: task.modelVersion, kind: EVALUATE_ENVELOPE_KIND };
}

/**
 * Evaluation plaintexts are padded with JSON whitespace to a multiple of this: the digits of a metric leak
 * through the sealed size otherwise (a missed held-out item has ndcg10 0, one byte, a hit 0.63..., many).
 */
export const EVALUATE_PADDED_BYTES = 1024;

/** The plaintext of an evaluation result: JSON (a count and a handful of scalars), space-padded. */
export function encodeEvaluateMetrics(result: EvaluateMetrics): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(result));
  const out = new Uint8Array(Math.max(1, Math.ceil(json.length / EVALUATE_PADDED_BYTES)) * EVALUATE_PADDED_BYTES).fill(0x20);
  out.set(json);
  return out;
}

/** Decodes an opened evaluation result; INVALID_PAYLOAD when it is not one. */
export function decodeEvaluateMetrics(bytes: Uint8Array): EvaluateMetrics {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ProtocolError('INVALID_PAYLOAD', 'evaluation result: not UTF-8 JSON');
  }
  const parsed = evaluateMetricsSchema.safeParse(value);
  if (!parsed.success) throw new ProtocolError('INVALID_PAYLOAD', `evaluation result: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/**
 * Parses the value of a successful `round:evaluate` ack into its envelope. A reply that carries the metrics in
 * clear (a device from before sealing) is refused by name rather than as a generic schema error.
 */
export function parseEvaluateReply(value: unknown): SealedEnvelope {
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (v['envelope'] === undefined && ('metrics' in v || 'numExamples' in v)) {
      throw new ProtocolError('INVALID_PAYLOAD', 'unsealed evaluate reply refused: evaluation results must be sealed to the coordinator key');
    }
    refuseLegacyEnvelope(v['envelope']);
  }
  const parsed = evaluateReplySchema.safeParse(value);
  if (!parsed.success) throw new ProtocolError('INVALID_PAYLOAD', `evaluate reply: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  if (parsed.data.envelope.ciphertext.byteLength > MAX_EVALUATE_RESULT_BYTES) {
    throw new ProtocolError('TOO_LARGE', `evaluate reply is ${parsed.data.envelope.ciphertext.byteLength} bytes, limit ${MAX_EVALUATE_RESULT_BYTES}`);
  }
  return parsed.data.envelope;
}
