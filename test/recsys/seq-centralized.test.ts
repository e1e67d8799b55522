import assert from 'node:assert/strict';
import { trainSeqCentralized, seqSplitOf, SEQ_CENTRALIZED } from '@fedrec/recsys/baselines/seq-centralized.js';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { withSequences, type SequenceUserData } from '@fedrec/recsys/data/sequences.js';
import { generateSequentialPattern } from '@fedrec/recsys/data/sequential-pattern.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';

/** The users of a validation split, each counting how often its test item is read. */
function countingTestReads(users: SequenceUserData[]): { users: SequenceUserData[]; reads: number[] } {
  const reads = users.map(() => 0);
  const wrapped = users.map((u, k) => {
    const copy = { ...u } as SequenceUserData;
    const testItem = u.testItem;
    Object.defineProperty(copy, 'testItem', {
      get: () => {
        reads[k]!++;
        return testItem;
      },
    });
    return copy;
  });
  return { users: wrapped, reads };
}

describe('the centralized baseline of the seq model', function () {
  this.timeout(60_000);
  const data = generateSequentialPattern({ seed: 3, users: 120 });
  const split = leaveOneOut(data, { seed: 3, negatives: 99, holdout: 'latest', validation: true });
  const users = withSequences(data, split.users);

  it('trains without the validation item and ranks it from the sequence before it; the test state ends with it', () => {
    for (const u of users.slice(0, 20)) {
      const s = seqSplitOf(u);
      assert.equal(s.withValidation.length, s.withoutValidation.length + 1);
      assert.ok(!Array.from(s.withoutValidation).includes(u.validationItem!));
      // Under --holdout latest the validation item is the last one before the test item.
      assert.equal(s.withValidation[s.withValidation.length - 1], u.validationItem);
      assert.ok(!Array.from(s.withValidation).includes(u.testItem));
    }
  });

  // Under the strict protocol (negatives exclude the validation item only) training never reads the test
  // item; under the default 'held-out' it reads it once per user before training (test/recsys/strict-negatives.test.ts).
  it('learns the pattern far above ItemPop, chooses its epoch on validation and, strict, reads each test item once', () => {
    const { users: counted, reads } = countingTestReads(users);
    const seen: number[] = [];
    const o = { ...SEQ_CENTRALIZED, epochs: 8, seed: 3, negativeExclusion: 'validation' as const };
    const run = trainSeqCentralized(seqModelOptions(split.numItems), counted, o, (r) => {
      seen.push(reads.reduce((a, b) => a + b, 0));
      assert.ok(r.eval, 'every epoch is evaluated on validation');
    });
    assert.ok(
      seen.every((n) => n === 0),
      'no test item was read while choosing the epoch',
    );
    assert.deepEqual(new Set(reads), new Set([1]), 'each test item read exactly once, at the end');
    const pop = evaluateItemPop(users, split.numItems);
    assert.ok(run.validation && run.bestEpoch >= 1 && run.bestEpoch <= run.epochsRun);
    assert.ok(run.final.hr10 > pop.hr10 + 0.3, `seq centralized HR@10 ${run.final.hr10} vs ItemPop ${pop.hr10}`);
    assert.throws(() => trainSeqCentralized(seqModelOptions(split.numItems, { longTerm: true }), users, o), /long-term term/);
  });
});
