import type { UserData } from '@fedrec/recsys/split.js';

/** One user of a 12-item catalogue with items 0-3 to train on, 4 held out for test and 5 for validation. */
export function heldOutFixtureUser(): UserData {
  return {
    user: 0,
    numItems: 12,
    trainItems: Int32Array.from([0, 1, 2, 3]),
    testItem: 4,
    testNegatives: Int32Array.from([7, 8, 9]),
    validationItem: 5,
    validationNegatives: Int32Array.from([9, 10, 11]),
  };
}
