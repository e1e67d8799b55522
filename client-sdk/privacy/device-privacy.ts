import { ProtocolError, addGaussianNoise, clipL2InPlace, deviceDpFromConfig, rowLayout } from '@fedrec/protocol';
import type { ByteSource, DeviceDp, WeightManifest } from '@fedrec/protocol';
import type { FitOutcome } from '../trainer.js';
import type { TrainedFit } from '../round-tasks.js';
import type { TaskContext } from '../trainer.js';

/**
 * The device's part of DP-FedAvg, applied to a trained fit before it is sealed (plain) or masked
 * (secagg, secagg+): the coordinator's instructions travel in the task config (protocol/privacy.ts).
 *
 * 1. Every client weighs the same: numExamples 1, and each row of an item table weight 1 where the device
 *    touched it (0 elsewhere). Example-count weights would let one user's data move the sum by more than
 *    the clip norm, and the sensitivity the noise is calibrated to would not hold.
 * 2. The whole delta (untouched item rows zeroed) is scaled to L2 norm ≤ clipNorm.
 * 3. With noiseStd > 0 (distributed DP, under secure aggregation) the device adds N(0, noiseStd²) to EVERY
 *    element, and marks every item row weight 1, so the masked sum carries the noise on all rows, not only
 *    on rows someone touched (otherwise the rows without noise would tell which items nobody touched, and
 *    the sum would not be DP). The cost: the update becomes dense; under secure aggregation it already is.
 * 4. Under adaptive clipping with secure aggregation (clipBitStd set) the device also reports its clipping bit
 *    b = [‖Δ‖ ≤ clipNorm] (norm before clipping, untouched rows zeroed) as b − 1/2 plus N(0, clipBitStd²): the
 *    masked vector carries it (secagg/contribution.ts), so the coordinator learns only the noisy count.
 *    The coordinator cannot check this bit (it never sees the update): see README "Adaptive clipping under
 *    secure aggregation" for what a lying device can do.
 */
export function privatizeUpdate(outcome: FitOutcome, manifest: WeightManifest, dp: DeviceDp, bytes?: ByteSource): FitOutcome {
  const delta = Float32Array.from(outcome.delta);
  const { tables } = rowLayout(manifest);
  const rowWeights = outcome.rowWeights ? new Float32Array(outcome.rowWeights.length) : undefined;
  for (const t of tables) {
    for (let r = 0; r < t.rows; r++) {
      const touched = (outcome.rowWeights?.[t.rowWeightOffset + r] ?? 1) > 0;
      if (rowWeights) rowWeights[t.rowWeightOffset + r] = touched || dp.noiseStd > 0 ? 1 : 0;
      if (!touched) delta.fill(0, t.offset + r * t.cols, t.offset + (r + 1) * t.cols);
    }
  }
  const norm = clipL2InPlace(delta, dp.clipNorm);
  if (dp.noiseStd > 0) addGaussianNoise(delta, dp.noiseStd, bytes);
  // A trainer's own clipBit never passes: only this step sets it, and only when the coordinator asked.
  const { clipBit: _ignored, ...rest } = outcome;
  const result: FitOutcome = { ...rest, delta, numExamples: 1, ...(rowWeights ? { rowWeights } : {}) };
  if (dp.clipBitStd !== undefined) {
    const bit = new Float64Array([(norm <= dp.clipNorm ? 1 : 0) - 0.5]);
    addGaussianNoise(bit, dp.clipBitStd, bytes);
    result.clipBit = bit[0]!;
  }
  return result;
}

/** Applies the task's DP instructions, if any, to a checked fit (the one call the fit path makes). */
export function privatizeTrained(trained: TrainedFit, ctx: TaskContext): TrainedFit {
  let dp: DeviceDp | undefined;
  try {
    dp = deviceDpFromConfig(ctx.config);
  } catch (err) {
    throw new ProtocolError('INVALID_PAYLOAD', err instanceof Error ? err.message : String(err));
  }
  if (!dp) return trained;
  return { ...trained, outcome: privatizeUpdate(trained.outcome, ctx.global.manifest, dp) };
}
