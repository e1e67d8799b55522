import type { UserData } from '@fedrec/recsys/split.js';

/**
 * Copies of `users` whose `testItem` counts every read, so a test can prove when (and how often) training
 * and selection look at the test item: `reads` is the running total over all copies.
 */
export function countingTestItemReads(users: readonly UserData[]): { users: UserData[]; readonly reads: number } {
  let reads = 0;
  const copies = users.map((u) => {
    const copy = { ...u };
    Object.defineProperty(copy, 'testItem', {
      get() {
        reads++;
        return u.testItem;
      },
    });
    return copy;
  });
  return {
    users: copies,
    get reads() {
      return reads;
    },
  };
}
