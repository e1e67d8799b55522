import { SeededRandom } from '@fedrec/models/random.js';
import type { InteractionDataset } from './types.js';

export interface SyntheticOptions {
  users: number;
  items: number;
  /** Mean interactions per user (each user gets at least minPerUser, at most min(items/2, items-100)). */
  interactionsPerUser: number;
  minPerUser?: number;
  /** Dimension of the hidden user tastes / item traits that drive choices. */
  tasteDim?: number;
  /** Zipf exponent of item popularity (1 = classic long tail). */
  zipfExponent?: number;
  /** How strongly taste (vs. popularity) drives a choice. */
  tasteWeight?: number;
  seed?: number;
}

export const DEFAULT_SYNTHETIC: Required<SyntheticOptions> = {
  users: 300,
  items: 400,
  interactionsPerUser: 30,
  minPerUser: 10,
  tasteDim: 6,
  zipfExponent: 0.9,
  tasteWeight: 2.5,
  seed: 7,
};

/**
 * Seeded behaviour with structure a recommender can learn: items have Zipf popularity and
 * latent traits, users latent tastes; each user picks items without replacement with
 * probability ∝ popularity · exp(tasteWeight · taste·trait), at increasing timestamps.
 */
export function generateSyntheticInteractions(options: Partial<SyntheticOptions> = {}): InteractionDataset {
  const o = { ...DEFAULT_SYNTHETIC, ...options };
  const rng = new SeededRandom(o.seed);
  const k = o.tasteDim;
  const scale = 1 / Math.sqrt(k);
  const traits = Float64Array.from({ length: o.items * k }, () => rng.normal() * scale);
  // Popularity rank is a random permutation so item id says nothing.
  const rankOf = rng.shuffle(Array.from({ length: o.items }, (_, i) => i));
  const logPop = Float64Array.from({ length: o.items }, (_, i) => -o.zipfExponent * Math.log(rankOf[i]! + 1));
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  const taste = new Float64Array(k);
  const keys = new Float64Array(o.items);
  const order = Array.from({ length: o.items }, (_, i) => i);
  // Leave room for the 99 never-seen evaluation negatives of the standard protocol.
  const maxPerUser = Math.max(2, Math.min(Math.floor(o.items / 2), o.items - 100));
  for (let u = 0; u < o.users; u++) {
    for (let d = 0; d < k; d++) taste[d] = rng.normal();
    // Geometric-ish spread of activity around the mean, like real logs.
    const count = Math.min(maxPerUser, Math.max(o.minPerUser, Math.round(-Math.log(1 - rng.next()) * o.interactionsPerUser)));
    // Gumbel top-k = sampling without replacement proportional to exp(key).
    for (let i = 0; i < o.items; i++) {
      let dot = 0;
      for (let d = 0; d < k; d++) dot += taste[d]! * traits[i * k + d]!;
      keys[i] = logPop[i]! + o.tasteWeight * dot - Math.log(-Math.log(1e-12 + rng.next() * (1 - 2e-12)));
    }
    order.sort((a, b) => keys[b]! - keys[a]!);
    let t = 1_000_000_000 + rng.int(10_000_000);
    const chosen = rng.shuffle(order.slice(0, count));
    for (const item of chosen) {
      t += 1 + rng.int(3600);
      users.push(u);
      items.push(item);
      times.push(t);
    }
  }
  const n = users.length;
  const usedItems = new Set(items);
  return {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: new Float32Array(n).fill(1),
    timestamps: Float64Array.from(times),
    numUsers: o.users,
    numItems: o.items,
    userIds: Array.from({ length: o.users }, (_, i) => `u${i}`),
    itemIds: Array.from({ length: o.items }, (_, i) => `i${i}`),
    summary: { lines: n, kept: n, malformed: 0, duplicates: 0, users: o.users, items: usedItems.size },
  };
}
