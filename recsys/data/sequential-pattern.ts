import { SeededRandom } from '@fedrec/models/random.js';
import type { InteractionDataset } from './types.js';

export interface SequentialPatternOptions {
  users: number;
  items: number;
  /** Events per user (distinct items). */
  length: number;
  /** Probability that the next item is f(previous) rather than a uniform jump. */
  follow: number;
  seed: number;
}

export const DEFAULT_SEQUENTIAL_PATTERN: SequentialPatternOptions = { users: 300, items: 300, length: 20, follow: 0.5, seed: 11 };

/**
 * A synthetic sequential pattern that only an order-aware model can use: one fixed random
 * successor f(i) per item (a permutation); each user's next item is f(previous) with probability
 * `follow`, else a uniform jump to an unseen item, and the latest event is always f(previous), so
 * leave-latest-out asks "what follows the last item". Items are uniformly popular and a user's set
 * of items is half random jumps: an order-blind model (NeuMF over the set) has little beyond
 * popularity to go on, while p(next | last) is one row of f.
 */
export function generateSequentialPattern(options: Partial<SequentialPatternOptions> = {}): InteractionDataset {
  const o = { ...DEFAULT_SEQUENTIAL_PATTERN, ...options };
  if (o.length + 100 > o.items) throw new RangeError('sequential pattern: items must leave room for 99 unseen evaluation negatives');
  const rng = new SeededRandom(o.seed);
  const successor = rng.shuffle(Array.from({ length: o.items }, (_, i) => i));
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < o.users; u++) {
    const seen = new Set<number>();
    let item = rng.int(o.items);
    let t = 1_000_000_000 + u * 100_000;
    for (let k = 0; k < o.length; k++) {
      if (k > 0) {
        const next = successor[item]!;
        const last = k === o.length - 1;
        if (!seen.has(next) && (last || rng.next() < o.follow)) item = next;
        else
          do item = rng.int(o.items);
          while (seen.has(item));
      }
      seen.add(item);
      users.push(u);
      items.push(item);
      times.push(t++);
    }
  }
  const n = users.length;
  return {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: new Float32Array(n).fill(1),
    timestamps: Float64Array.from(times),
    numUsers: o.users,
    numItems: o.items,
    userIds: Array.from({ length: o.users }, (_, i) => `u${i}`),
    itemIds: Array.from({ length: o.items }, (_, i) => `i${i}`),
    summary: { lines: n, kept: n, malformed: 0, duplicates: 0, users: o.users, items: new Set(items).size },
  };
}
