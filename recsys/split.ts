import { SeededRandom } from '@fedrec/models/random.js';
import type { InteractionDataset } from './data/types.js';
import { parseChoice } from './choice.js';

/** Everything one client holds: exactly one user's data. */
export interface UserData {
  user: number;
  numItems: number;
  /** Items the user interacted with, minus the held-out one (sorted). */
  trainItems: Int32Array;
  /** The held-out interaction (the latest by timestamp under the default holdout). */
  testItem: number;
  /** Items the user never interacted with, ranked against testItem. */
  testNegatives: Int32Array;
  /**
   * With `validation`: a second held-out interaction (the one before the test item under 'latest',
   * PFedRec's protocol), for early stopping and choosing the best round, so the test item is only
   * ever read to report the chosen model. Not in trainItems.
   */
  validationItem?: number;
  /** Never-seen items ranked against validationItem (sampled with their own seed). */
  validationNegatives?: Int32Array;
}

/**
 * The user's interactions kept out of training for evaluation (the test item, and the validation item
 * when there is one). Training never samples them as negatives: the user did interact with them.
 */
export function heldOutItems(u: UserData): number[] {
  return u.validationItem === undefined ? [u.testItem] : [u.testItem, u.validationItem];
}

/**
 * Which held-out items training keeps out of its sampled negatives:
 * - 'held-out' (the default): the validation and the test item, PFedRec's sampling (negatives are items
 *   the user never touched). Training then reads the test item's id, if only to avoid it; with
 *   leave-latest-out that is the user's next interaction, which a deployed model could not know.
 * - 'validation': the validation item only. Training never reads the test item (the strict protocol).
 * - 'none': neither (He et al.'s NCF code): a held-out item may be drawn as a negative.
 */
export type NegativeExclusion = 'held-out' | 'validation' | 'none';
export const NEGATIVE_EXCLUSIONS = ['held-out', 'validation', 'none'] as const satisfies readonly NegativeExclusion[];

/** Parses an exclusion mode from a flag or round config; anything else is an error naming the choices. */
export function parseNegativeExclusion(v: unknown): NegativeExclusion {
  return parseChoice(v, NEGATIVE_EXCLUSIONS, 'negative exclusion');
}

/**
 * The held-out items training must not draw as negatives under `mode`. Under 'validation' and 'none'
 * it never touches `testItem`, so a strict run's training cannot depend on the test item at all.
 */
export function negativeExclusions(u: UserData, mode: NegativeExclusion = 'held-out'): number[] {
  if (mode === 'held-out') return heldOutItems(u);
  if (mode === 'validation') return u.validationItem === undefined ? [] : [u.validationItem];
  return [];
}

/**
 * Which interaction a user holds out: 'latest' by timestamp (He et al.; on a file without
 * timestamps, its last line), 'last-line' (file order whatever the timestamps say), or 'random'
 * (seeded per user).
 */
export type HoldoutMode = 'latest' | 'last-line' | 'random';
export const HOLDOUT_MODES: readonly HoldoutMode[] = ['latest', 'last-line', 'random'];

export interface SplitOptions {
  /** Evaluation negatives per user (99 in He et al. 2017). */
  negatives?: number;
  seed?: number;
  /** Which interaction is the test item (default 'latest'). */
  holdout?: HoldoutMode;
  /** Also hold out a validation item (the next one under the same rule); users then need three interactions. */
  validation?: boolean;
}

export interface LeaveOneOutSplit {
  numUsers: number;
  numItems: number;
  /** One entry per user with at least two interactions, by dense user id. */
  users: UserData[];
  /** Users left out because they had fewer than two interactions (three with validation). */
  skippedUsers: number;
  holdout: HoldoutMode;
  validation: boolean;
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
  const holdout = options.holdout ?? 'latest';
  const validation = options.validation ?? false;
  const rows: number[][] = Array.from({ length: data.numUsers }, () => []);
  for (let r = 0; r < data.users.length; r++) rows[data.users[r]!]!.push(r);
  const users: UserData[] = [];
  let skippedUsers = 0;
  rows.forEach((userRows, user) => {
    if (userRows.length < (validation ? 3 : 2)) {
      skippedUsers++;
      return;
    }
    const items = userRows.map((r) => data.items[r]!);
    // 'last-line' ranks rows by their position in the data (file order), whatever the timestamps say.
    const times = holdout === 'last-line' ? userRows : userRows.map((r) => data.timestamps[r]!);
    users.push(holdOut(user, items, times, data.numItems, { negatives, seed, holdout, validation }));
  });
  return { numUsers: data.numUsers, numItems: data.numItems, users, skippedUsers, holdout, validation };
}

/** Index of the latest entry (the later one on ties), skipping `except`. */
function latestIndex(timestamps: ArrayLike<number>, except = -1): number {
  let latest = -1;
  for (let k = 0; k < timestamps.length; k++) if (k !== except && (latest < 0 || timestamps[k]! >= timestamps[latest]!)) latest = k;
  return latest;
}

/** Index of a seeded random entry other than `except`. */
function randomIndex(rng: SeededRandom, n: number, except = -1): number {
  for (;;) {
    const k = rng.int(n);
    if (k !== except) return k;
  }
}

/**
 * One user's held-out data from its own history (what a device can do alone): the test item by
 * the holdout rule (default: the latest, the later one on ties), optionally a validation item by
 * the same rule among the rest, and `negatives` never-seen items for each from the seed.
 */
export function holdOut(user: number, items: ArrayLike<number>, timestamps: ArrayLike<number>, numItems: number, options: SplitOptions = {}): UserData {
  const validation = options.validation ?? false;
  if (items.length < (validation ? 3 : 2)) throw new RangeError(`user ${user} needs at least ${validation ? 3 : 2} interactions, has ${items.length}`);
  const seed = options.seed ?? 42;
  const negatives = options.negatives ?? 99;
  // A stream of its own, so random holdout does not shift the evaluation negatives.
  const pick = new SeededRandom(userSeed(seed ^ 0x5bd1e995, user));
  const random = options.holdout === 'random';
  const test = random ? randomIndex(pick, items.length) : latestIndex(timestamps);
  const testItem = items[test]!;
  const all = new Set<number>(Array.from(items));
  const train = new Set(all);
  train.delete(testItem);
  let validationItem: number | undefined;
  if (validation) {
    validationItem = items[random ? randomIndex(pick, items.length, test) : latestIndex(timestamps, test)]!;
    train.delete(validationItem);
  }
  const trainItems = Int32Array.from(train).sort();
  // Negatives exclude everything the user touched (test, validation and train): the same test negatives with or without validation.
  const testNegatives = sampleUnseen(new SeededRandom(userSeed(seed, user)), numItems, all, negatives);
  const out: UserData = { user, numItems, trainItems, testItem, testNegatives };
  if (validationItem !== undefined) {
    out.validationItem = validationItem;
    out.validationNegatives = sampleUnseen(new SeededRandom(userSeed(seed + 0x3c6ef372, user)), numItems, all, negatives);
  }
  return out;
}

/** He et al.'s leave-one-out for one user: the latest item held out (see holdOut). */
export function holdOutLatest(user: number, items: ArrayLike<number>, timestamps: ArrayLike<number>, numItems: number, options: SplitOptions = {}): UserData {
  return holdOut(user, items, timestamps, numItems, { ...options, holdout: 'latest' });
}
