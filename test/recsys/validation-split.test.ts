import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { trainCentralized } from '@fedrec/recsys/baselines/centralized.js';
import { parseDelimitedInteractions } from '@fedrec/recsys/data/delimited.js';
import { parseMovieLens } from '@fedrec/recsys/data/movielens.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { describeHoldout } from '@fedrec/recsys/holdout.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { countingTestItemReads } from './test-item-reads.js';

describe('recsys: validation item and --holdout modes', () => {
  const data = generateSyntheticInteractions({ users: 30, items: 120, interactionsPerUser: 12, seed: 4 });

  it('latest: the test item is the latest interaction, validation the one before; both out of training; negatives unseen', () => {
    const split = leaveOneOut(data, { seed: 5, validation: true });
    const plain = leaveOneOut(data, { seed: 5 });
    for (const [k, u] of split.users.entries()) {
      const rows = [...data.users.keys()].filter((r) => data.users[r] === u.user).sort((x, y) => data.timestamps[x]! - data.timestamps[y]! || x - y);
      assert.equal(u.testItem, data.items[rows.at(-1)!]);
      assert.equal(u.validationItem, data.items[rows.at(-2)!]);
      assert.ok(!u.trainItems.includes(u.testItem) && !u.trainItems.includes(u.validationItem!));
      assert.equal(u.trainItems.length, rows.length - 2);
      const all = new Set(rows.map((r) => data.items[r]!));
      for (const n of [...u.testNegatives, ...u.validationNegatives!]) assert.ok(!all.has(n));
      // The test negatives do not depend on whether a validation item is held out.
      assert.deepEqual(u.testNegatives, plain.users[k]!.testNegatives);
    }
  });

  it('last-line follows file order whatever the timestamps; random is seeded and differs from latest', () => {
    const d = parseMovieLens('1\t10\t5\t300\n1\t11\t5\t100\n1\t12\t5\t200\n1\t13\t5\t50\n2\t14\t1\t1\n2\t15\t1\t2\n2\t16\t1\t3\n');
    const last = leaveOneOut(d, { negatives: 1, holdout: 'last-line', validation: true }).users[0]!;
    assert.deepEqual([d.itemIds[last.testItem], d.itemIds[last.validationItem!]], ['13', '12']);
    const latest = leaveOneOut(d, { negatives: 1, validation: true }).users[0]!;
    assert.deepEqual([d.itemIds[latest.testItem], d.itemIds[latest.validationItem!]], ['10', '12']);
    const r1 = leaveOneOut(data, { holdout: 'random', seed: 1, validation: true });
    const r2 = leaveOneOut(data, { holdout: 'random', seed: 1, validation: true });
    const byTime = leaveOneOut(data, { seed: 1, validation: true });
    assert.deepEqual(
      r1.users.map((u) => u.testItem),
      r2.users.map((u) => u.testItem),
    );
    assert.ok(r1.users.some((u, k) => u.testItem !== byTime.users[k]!.testItem));
    for (const u of r1.users) assert.notEqual(u.testItem, u.validationItem);
  });

  it('the data summary says which interaction is held out, and warns when the last line is the highest item id', () => {
    assert.match(describeHoldout(data, 'latest', true), /latest interaction by timestamp.*validation item/);
    const noTimes = parseDelimitedInteractions('user,item\na,1\na,2\na,3\nb,1\nb,4\nb,5\n');
    assert.match(describeHoldout(noTimes, 'latest', false), /no timestamps.*LAST LINE.*WARNING.*highest item id/);
    const unsorted = parseDelimitedInteractions('user,item\na,3\na,1\na,2\nb,5\nb,1\nb,4\n');
    assert.doesNotMatch(describeHoldout(unsorted, 'latest', false), /WARNING/);
    assert.match(describeHoldout(noTimes, 'random', false), /chosen with the seed/);
  });

  it('centralized early stopping chooses its epoch on validation; the test item is read once per user before training (negatives) and once at the end, never while choosing', () => {
    const split = leaveOneOut(data, { seed: 2, validation: true });
    const readsAtEpochEnd: number[] = [];
    const counted = countingTestItemReads(split.users);
    const users = counted.users;
    const arch = ncfArch('mf', recsysModelOptions(split.numItems, { factors: 8 }));
    const result = trainCentralized(
      arch,
      users,
      split.numUsers,
      { epochs: 6, batchSize: 64, learningRate: 0.01, optimizer: 'adam', negatives: 2, seed: 1, evalEvery: 1, patience: 2 },
      (r) => {
        assert.ok(r.eval, 'every epoch evaluated (validation)');
        readsAtEpochEnd.push(counted.reads);
      },
    );
    // Once per user before training, to keep the test item out of the sampled negatives; never while
    // epochs are being chosen.
    assert.ok(
      readsAtEpochEnd.length >= 3 && readsAtEpochEnd.every((n) => n === users.length),
      `test item read while epochs were being chosen: ${readsAtEpochEnd.join(',')}`,
    );
    // The epoch reported is the validation argmax.
    const best = result.history.reduce((a, b) => (b.eval!.hr10 > a.eval!.hr10 ? b : a));
    assert.equal(result.bestEpoch, best.epoch);
    assert.equal(result.validation!.hr10, best.eval!.hr10);
    assert.equal(counted.reads, 2 * users.length, 'the test item is read once more per user, for the chosen epoch');
  });
});
