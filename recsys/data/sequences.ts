import type { UserData } from '../split.js';
import type { InteractionDataset } from './types.js';

/** One user's data plus its training interactions in time order: what a sequence model trains on. */
export interface SequenceUserData extends UserData {
  /** The user's interactions by timestamp (file order on ties), without the held-out one. */
  trainSequence: Int32Array;
}

/**
 * Attaches each user's time-ordered training sequence to a leave-one-out split, whichever item the
 * split held out: the user's rows sorted by timestamp (stable: file order breaks ties), minus the
 * last row of the held-out item. The set of a sequence is the user's trainItems.
 */
export function withSequences(data: InteractionDataset, users: readonly UserData[]): SequenceUserData[] {
  const rows: number[][] = Array.from({ length: data.numUsers }, () => []);
  for (let r = 0; r < data.users.length; r++) rows[data.users[r]!]!.push(r);
  return users.map((u) => {
    const ordered = (rows[u.user] ?? []).slice().sort((x, y) => data.timestamps[x]! - data.timestamps[y]! || x - y);
    const items = ordered.map((r) => data.items[r]!);
    const held = items.lastIndexOf(u.testItem);
    if (held >= 0) items.splice(held, 1);
    return { ...u, trainSequence: Int32Array.from(items) };
  });
}

/** The time-ordered training history of a user: its sequence when it has one, else its item set. */
export function historyOf(user: UserData): Int32Array {
  return 'trainSequence' in user && user.trainSequence instanceof Int32Array ? user.trainSequence : user.trainItems;
}
