import { SeededRandom } from '@fedrec/models/random.js';
import type { InteractionDataset } from './data/types.js';

/** Everything one client holds: exactly one user's data. */
export interface UserData {
  user: number;
  numItems: number;
  /** Items the user interacted with, minus the held-out one (sorted). */
  trainItems: Int32Array;
  /** The user's latest interaction by timestamp. */
  testItem: number;
  /** Items the user never interacted with, ranked against testItem. */
  testNegatives: Int32Array;
}

export interface SplitOptions {
  /** Evaluation negatives per user (99 in He et al. 2017). */
  negatives?: number;
  seed?: number;
}

export interface LeaveOneOutSplit {
  numUsers: number;
  numItems: number;
  /** One entry per user with at least two interactions, by dense user id. */
  users: UserData[];
  /** Users left out because they had fewer than two interactions. */
  skippedUsers: number;
}

/** A per-user seed, so one user's negatives do not depend on who else is in the data. */
export function userSeed(seed: number, user: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(user + 1, 0xc2b2ae35)) >>> 0;
}

/** k distinct items in [0, numItems) outside `exclude`, reproducible from the rng. */
export function sampleUnseen(rng: SeededRandom, numItems: number, exclude: ReadonlySet<number>, k: number): Int32Array {
  const available = numItems - exclude.size;
  if (available < k) throw new RangeError(`only ${available} unseen items, ${k} requested`);
  const out = new Int32Array(k);
  const taken = new Set<number>();
  for (let i = 0; i < k;) {
    const item = rng.int(numItems);
    if (exclude.has(item) || taken.has(item)) continue;
    taken.add(item);
    out[i++] = item;
  }
  return out;
}

/**
 * He et al. 2017 leave-one-out: per user the latest interaction (by timestamp; the later row
 * on ties) is held out and ranked against `negatives` items the user never interacted with.
 */
export function leaveOneOut(data: InteractionDataset, options: SplitOptions = {}): LeaveOneOutSplit {
  const negatives = options.negatives ?? 99;
  const seed = options.seed ?? 42;
  const rows: number[][] = Array.from({ length: data.numUsers }, () => []);
  for (let r = 0; r < data.users.length; r++) rows[data.users[r]!]!.push(r);
  const users: UserData[] = [];
  let skippedUsers = 0;
  rows.forEach((userRows, user) => {
    if (userRows.length < 2) {
      skippedUsers++;
      return;
    }
    const items = userRows.map((r) => data.items[r]!);
    const times = userRows.map((r) => data.timestamps[r]!);
    users.push(holdOutLatest(user, items, times, data.numItems, { negatives, seed }));
  });
  return { numUsers: data.numUsers, numItems: data.numItems, users, skippedUsers };
}

/**
 * One user's leave-one-out data from its own history (what a device can do alone): the latest
 * item (the later one on ties) is held out, `negatives` never-seen items are sampled from the seed.
 */
export function holdOutLatest(user: number, items: ArrayLike<number>, timestamps: ArrayLike<number>, numItems: number, options: SplitOptions = {}): UserData {
  if (items.length < 2) throw new RangeError(`user ${user} needs at least two interactions, has ${items.length}`);
  let latest = 0;
  for (let k = 0; k < items.length; k++) if (timestamps[k]! >= timestamps[latest]!) latest = k;
  const testItem = items[latest]!;
  const seen = new Set<number>(Array.from(items));
  seen.delete(testItem);
  const trainItems = Int32Array.from(seen).sort();
  seen.add(testItem);
  const testNegatives = sampleUnseen(new SeededRandom(userSeed(options.seed ?? 42, user)), numItems, seen, options.negatives ?? 99);
  return { user, numItems, trainItems, testItem, testNegatives };
}
