import {
  ProtocolError,
  allFinite,
  checkUpdatePadding,
  decodeUpdatePayload,
  fitReplySchema,
  refuseLegacyEnvelope,
  rowWeightsSize,
  sharedSize,
} from '@fedrec/protocol';
import type { EnvelopeBinding, EnvelopeOpener, SealedEnvelope, UpdatePayload, WeightManifest } from '@fedrec/protocol';
import type { UpdateLimits } from './fit-collector.js';
import { checkMetricKeys } from './metric-keys.js';
import { l2Norm } from './strategy/update-policy.js';

/**
 * Opens a sealed fit result and checks it against the round's manifest and limits.
 * Returns the payload only when it is safe to add to the sums; otherwise throws a
 * ProtocolError whose code says why (and nothing has been touched).
 */
export async function openValidatedUpdate(
  envelope: SealedEnvelope,
  binding: EnvelopeBinding,
  opener: EnvelopeOpener,
  manifest: WeightManifest,
  limits: UpdateLimits,
): Promise<ValidatedUpdate> {
  checkUpdateSize(envelope, limits);
  const plaintext = await opener.open(envelope, binding);
  checkUpdatePadding(plaintext, manifest, limits.compression);
  // The plaintext is this update's own (freshly decrypted, dropped after): the delta may view it, not copy it.
  return validateUpdate(decodeUpdatePayload(plaintext, manifest, limits.compression, true), manifest, limits);
}

/** The size limit, checked before any decryption work. */
export function checkUpdateSize(envelope: SealedEnvelope, limits: UpdateLimits): void {
  const size = envelope.ciphertext.byteLength;
  if (size > limits.maxUpdateBytes) throw new ProtocolError('TOO_LARGE', `update is ${size} bytes, limit ${limits.maxUpdateBytes}`);
}

/** An update that passed validateUpdate, with the L2 norm of its delta as received (the update policy's measure). */
export type ValidatedUpdate = UpdatePayload & { norm: number };

/**
 * The checks on an opened, decoded update (lengths against the manifest, numExamples, metric names,
 * finiteness, row weights >= 0). The one validation path: the in-thread collector and the update
 * pool's workers both call it.
 */
export function validateUpdate(payload: UpdatePayload, manifest: WeightManifest, limits: UpdateLimits): ValidatedUpdate {
  const expectedDelta = sharedSize(manifest);
  if (payload.delta.length !== expectedDelta) {
    throw new ProtocolError('MANIFEST_MISMATCH', `delta has ${payload.delta.length} values, manifest wants ${expectedDelta}`);
  }
  const expectedRows = rowWeightsSize(manifest);
  const rows = payload.rowWeights?.length ?? 0;
  if (rows !== expectedRows) throw new ProtocolError('MANIFEST_MISMATCH', `rowWeights has ${rows} values, manifest wants ${expectedRows}`);

  const n = payload.numExamples;
  if (!Number.isFinite(n) || n <= 0 || n > limits.maxExamplesPerUpdate) {
    throw new ProtocolError('INVALID_PAYLOAD', `numExamples must be in (0, ${limits.maxExamplesPerUpdate}], got ${n}`);
  }
  checkMetricKeys(payload.metrics, limits.maxMetricKeys);
  // One pass for two checks: float32 values squared and summed in float64 cannot overflow (each square is below
  // 2^256, and a delta has far fewer than 2^700 values), so the sum is finite exactly when every value is. The
  // norm is the update policy's measure too; a separate finiteness pass over the delta cost the update worker as
  // much as the norm's own (a CPU profile of the 1,000-client bench, README "Throughput").
  const norm = l2Norm(payload.delta);
  if (!Number.isFinite(norm)) throw new ProtocolError('NON_FINITE_VALUES', 'delta contains NaN or Infinity');
  if (payload.rowWeights) {
    if (!allFinite(payload.rowWeights)) throw new ProtocolError('NON_FINITE_VALUES', 'rowWeights contain NaN or Infinity');
    if (payload.rowWeights.some((w) => w < 0)) throw new ProtocolError('INVALID_PAYLOAD', 'rowWeights must be >= 0');
  }
  return { ...payload, norm };
}

/** Parses the value of a successful fit ack into a sealed envelope (INVALID_PAYLOAD otherwise). */
export function parseFitReply(value: unknown): SealedEnvelope {
  if (typeof value === 'object' && value !== null) refuseLegacyEnvelope((value as { envelope?: unknown }).envelope);
  const parsed = fitReplySchema.safeParse(value);
  if (!parsed.success) throw new ProtocolError('INVALID_PAYLOAD', `fit reply: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.envelope;
}
