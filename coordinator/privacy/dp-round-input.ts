import { l2NormOf, rowLayout } from '@fedrec/protocol';
import type { RowTable, WeightManifest } from '@fedrec/protocol';
import { RoundInput } from '../strategy/round-input.js';
import type { DenseUpdate } from '../strategy/update-policy.js';
import { UpdatePolicy } from '../strategy/update-policy.js';

/**
 * A plain round's input under central DP: every update weighs the same (numExamples 1, each touched item
 * row weight 1, others 0) and is clipped to the fixed clip norm by the coordinator's own update policy
 * (a fixed bound, no weight cap), whatever the device claims: a hostile device may skip its own clipping,
 * and the sensitivity the noise is calibrated to must hold for every update.
 *
 * It also counts the updates that arrive with a norm below the clip norm (adaptive clipping's bits): a
 * device clips to the same C, so a clipped update arrives with norm C (to float32 rounding) and an
 * unclipped one below it. The bit is computed from what arrived, so a device cannot claim one it did not send.
 */
export class DpRoundInput extends RoundInput {
  private readonly rowTables: readonly RowTable[];
  /** Updates whose norm was below the clip norm (not clipped by the device nor here). */
  unclipped = 0;

  constructor(
    manifest: WeightManifest,
    private readonly clipNorm: number,
  ) {
    super(manifest, new UpdatePolicy({ normBound: { mode: 'fixed', value: clipNorm }, weightCap: 'off', rowNormBound: 'off' }), false);
    this.rowTables = rowLayout(manifest).tables;
  }

  /**
   * Never: every update comes through add(), which makes its weights 1 and counts its bit. Streamed to the
   * pool's workers, an update would be summed with the example count and row weights the device claimed,
   * and a device claiming many examples would move the sum by more than the clip norm.
   */
  override canStream(): boolean {
    return false;
  }

  override add(clientId: string, update: DenseUpdate): void {
    const rowWeights = update.rowWeights?.map((w) => (w > 0 ? 1 : 0));
    // Rows of weight 0 are not summed, so their values do not count towards the clipped norm either.
    const delta = update.delta.slice();
    if (rowWeights) {
      for (const t of this.rowTables) {
        for (let r = 0; r < t.rows; r++) if (rowWeights[t.rowWeightOffset + r] === 0) delta.fill(0, t.offset + r * t.cols, t.offset + (r + 1) * t.cols);
      }
    }
    // 1e-5: a clipped update's norm is C up to float32 rounding (~1e-7 relative); below that it was not clipped.
    if (l2NormOf(delta) < this.clipNorm * (1 - 1e-5)) this.unclipped += 1;
    super.add(clientId, { numExamples: 1, delta, rowWeights });
  }
}
