import { rowLayout } from '@fedrec/protocol';
import type { RowTable, WeightManifest } from '@fedrec/protocol';
import { RoundInput } from '../strategy/round-input.js';
import type { DenseUpdate } from '../strategy/update-policy.js';
import { UpdatePolicy } from '../strategy/update-policy.js';

/**
 * A plain round's input under central DP: every update weighs the same (numExamples 1, each touched item
 * row weight 1, others 0) and is clipped to the fixed clip norm by the coordinator's own update policy
 * (a fixed bound, no weight cap), whatever the device claims: a hostile device may skip its own clipping,
 * and the sensitivity the noise is calibrated to must hold for every update.
 */
export class DpRoundInput extends RoundInput {
  private readonly rowTables: readonly RowTable[];

  constructor(manifest: WeightManifest, clipNorm: number) {
    super(manifest, new UpdatePolicy({ normBound: { mode: 'fixed', value: clipNorm }, weightCap: 'off', rowNormBound: 'off' }), false);
    this.rowTables = rowLayout(manifest).tables;
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
    super.add(clientId, { numExamples: 1, delta, rowWeights });
  }
}
