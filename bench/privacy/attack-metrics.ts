/**
 * How well a score matrix (users × items, higher = "this user touched this item") recovers who touched what.
 * Membership, item by item: for each item, does the score put the users who touched it above those who did not?
 * A score every user shares (item popularity, the global model, an aggregate) ties all users, i.e. chance (0.5):
 * what the coordinator may know about everyone is not counted as learning about one user.
 */
export interface AttackFigures {
  /** Mean over items of the AUC of the users who trained on the item against users who never touched it. */
  auc: number;
  /** The same for held-out items: users whose held-out item it is against users who never touched it. */
  heldOutAuc: number;
  /** Mean over users of the share of their 10 top items (by the user's percentile among users, per item) they really touched. */
  precisionAt10: number;
  /** What precision@10 a blind guess gets: the mean share of the catalogue a user touched. */
  chancePrecisionAt10: number;
}

export interface Truth {
  trainItems: ArrayLike<number>;
  testItem: number;
}

export function attackFigures(scores: Float64Array[], truth: readonly Truth[], numItems: number, seed = 1): AttackFigures {
  const nUsers = scores.length;
  const train = truth.map((t) => new Set(Array.from(t.trainItems)));
  const percentile = scores.map(() => new Float64Array(numItems));
  let auc = 0;
  let aucItems = 0;
  let heldOut = 0;
  let heldOutItems = 0;
  for (let i = 0; i < numItems; i++) {
    const column = scores.map((row) => row[i]!);
    const ranks = averageRanks(column);
    ranks.forEach((r, u) => (percentile[u]![i] = r / nUsers));
    const pos: number[] = [];
    const held: number[] = [];
    const neg: number[] = [];
    column.forEach((v, u) => {
      if (train[u]!.has(i)) pos.push(v);
      else if (truth[u]!.testItem === i) held.push(v);
      else neg.push(v);
    });
    if (pos.length > 0 && neg.length > 0) {
      auc += aucOf(pos, neg);
      aucItems++;
    }
    if (held.length > 0 && neg.length > 0) {
      heldOut += aucOf(held, neg);
      heldOutItems++;
    }
  }
  let rand = seed >>> 0;
  const next = () => (rand = (Math.imul(rand, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let precision = 0;
  let chance = 0;
  percentile.forEach((row, u) => {
    // Ties broken at random (seeded): a constant score must score chance, not the lowest ids.
    const jitter = Array.from({ length: numItems }, () => next());
    const order = Array.from({ length: numItems }, (_, i) => i).sort((a, b) => row[b]! - row[a]! || jitter[b]! - jitter[a]!);
    precision += order.slice(0, 10).filter((i) => train[u]!.has(i)).length / 10;
    chance += train[u]!.size / numItems;
  });
  return {
    auc: aucItems ? auc / aucItems : 0.5,
    heldOutAuc: heldOutItems ? heldOut / heldOutItems : 0.5,
    precisionAt10: precision / nUsers,
    chancePrecisionAt10: chance / nUsers,
  };
}

/** 1-based ranks, ties sharing their average rank. */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]!.v === order[i]!.v) j++;
    for (let k = i; k < j; k++) ranks[order[k]!.i] = (i + 1 + j) / 2;
    i = j;
  }
  return ranks;
}

/** Mann–Whitney AUC: P(score of a positive > score of a negative), ties counted half. */
export function aucOf(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return 0.5;
  const all = [...positives.map((v) => ({ v, p: 1 })), ...negatives.map((v) => ({ v, p: 0 }))].sort((a, b) => a.v - b.v);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    const rank = (i + 1 + j) / 2; // average rank of the tie group (1-based)
    for (let k = i; k < j; k++) if (all[k]!.p) rankSum += rank;
    i = j;
  }
  const np = positives.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * negatives.length);
}

/** Spearman rank correlation (ties averaged): does a size track how many items a device touched? */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  const ranks = (v: readonly number[]) => {
    const order = v.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
    const r = new Array<number>(v.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j < order.length && order[j]!.x === order[i]!.x) j++;
      for (let k = i; k < j; k++) r[order[k]!.i] = (i + j + 1) / 2;
      i = j;
    }
    return r;
  };
  const rx = ranks(xs);
  const ry = ranks(ys);
  const m = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const mx = m(rx);
  const my = m(ry);
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < rx.length; i++) {
    num += (rx[i]! - mx) * (ry[i]! - my);
    dx += (rx[i]! - mx) ** 2;
    dy += (ry[i]! - my) ** 2;
  }
  return dx === 0 || dy === 0 ? 0 : num / Math.sqrt(dx * dy);
}
