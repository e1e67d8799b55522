import { splitShared, type Weights } from '@fedrec/protocol';
import type { RecommendationReason } from '../trainer.js';

/** The item embedding tables of a model: its shared rowwise tensors wider than one column (biases carry no direction). */
export interface ItemEmbeddings {
  tables: Array<{ name: string; rows: Float32Array; width: number }>;
  numItems: number;
}

export function itemEmbeddings(weights: Weights): ItemEmbeddings {
  const shared = splitShared(weights.manifest, weights.body);
  const tables: ItemEmbeddings['tables'] = [];
  let numItems = 0;
  for (const t of weights.manifest.tensors) {
    if (!t.shared || !t.rowwise || (t.shape[1] ?? 1) < 2) continue;
    tables.push({ name: t.name, rows: shared.get(t.name)!, width: t.shape[1]! });
    numItems = t.shape[0]!;
  }
  return { tables, numItems };
}

/**
 * Cosine similarity of two items over their embedding rows, each table's row normalised on its
 * own and the tables averaged (NeuMF's GMF and MLP item rows live on different scales).
 */
export function itemCosine(e: ItemEmbeddings, a: number, b: number): number {
  if (e.tables.length === 0) return 0;
  let total = 0;
  for (const { rows, width } of e.tables) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    const oa = a * width;
    const ob = b * width;
    for (let k = 0; k < width; k++) {
      const x = rows[oa + k]!;
      const y = rows[ob + k]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    total += na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
  }
  return total / e.tables.length;
}

/**
 * The reason for each recommended item, computed on the device: the liked item whose embedding is
 * closest (cosine) to it, or the popularity prior when nothing is liked yet.
 */
export function explainRecommendations(e: ItemEmbeddings, recommended: readonly number[], liked: readonly number[]): RecommendationReason[] {
  const known = liked.filter((i) => Number.isInteger(i) && i >= 0 && i < e.numItems);
  if (known.length === 0 || e.tables.length === 0) return recommended.map(() => ({ kind: 'popular' }));
  return recommended.map((item) => {
    let best = known[0]!;
    let bestSim = -Infinity;
    for (const l of known) {
      const s = itemCosine(e, item, l);
      if (s > bestSim) {
        bestSim = s;
        best = l;
      }
    }
    return { kind: 'similar-to-liked', item: best, similarity: bestSim };
  });
}

/** A reason as a person reads it: "because you liked X" / "popular with everyone". */
export function reasonText(reason: RecommendationReason, titleOf: (item: number) => string): string {
  return reason.kind === 'popular' ? 'popular with everyone' : `because you liked ${titleOf(reason.item)}`;
}
