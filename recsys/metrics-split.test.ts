import assert from 'node:assert/strict';
import { parseMovieLens } from './data/movielens.js';
import { generateSyntheticInteractions } from './data/synthetic.js';
import { hitRatioAt, metricsFromRank, ndcgAt, rankAmongNegatives } from './metrics.js';
import { holdOutLatest, leaveOneOut } from './split.js';

describe('recsys metrics', () => {
  it('computes HR@k and NDCG@k on hand-made rankings', () => {
    const ranked = [7, 3, 9, 1];
    assert.equal(hitRatioAt(ranked, 7, 1), 1);
    assert.equal(hitRatioAt(ranked, 9, 2), 0);
    assert.equal(hitRatioAt(ranked, 9, 3), 1);
    assert.equal(hitRatioAt(ranked, 42, 10), 0);
    assert.equal(ndcgAt(ranked, 7, 10), 1);
    assert.equal(ndcgAt(ranked, 3, 10), 1 / Math.log2(3));
    assert.equal(ndcgAt(ranked, 1, 10), 1 / Math.log2(5));
    assert.equal(ndcgAt(ranked, 1, 3), 0);
  });

  it('ranks a held-out score among negatives, counting ties against it', () => {
    assert.equal(rankAmongNegatives(0.9, [0.1, 0.95, 0.5]), 1);
    assert.equal(rankAmongNegatives(0.5, [0.5, 0.5]), 2);
    assert.deepEqual(metricsFromRank(0, 10), { hr: 1, ndcg: 1 });
    assert.deepEqual(metricsFromRank(10, 10), { hr: 0, ndcg: 0 });
    assert.equal(metricsFromRank(2, 10).ndcg, 0.5);
  });
});

describe('recsys leave-one-out split', () => {
  const data = generateSyntheticInteractions({ users: 40, items: 150, interactionsPerUser: 15, seed: 9 });

  it("holds out each user's latest interaction and samples never-seen negatives", () => {
    const split = leaveOneOut(data, { seed: 5 });
    assert.equal(split.users.length, 40);
    for (const u of split.users) {
      const rows = [...data.users.keys()].filter((r) => data.users[r] === u.user);
      const latest = rows.reduce((best, r) => (data.timestamps[r]! > data.timestamps[best]! ? r : best));
      assert.equal(u.testItem, data.items[latest]);
      const all = new Set(rows.map((r) => data.items[r]!));
      assert.equal(u.trainItems.length, all.size - 1);
      assert.ok(!u.trainItems.includes(u.testItem));
      assert.equal(u.testNegatives.length, 99);
      assert.equal(new Set(u.testNegatives).size, 99, 'distinct');
      for (const n of u.testNegatives) assert.ok(!all.has(n), `negative ${n} was interacted with`);
    }
  });

  it('is reproducible from the seed and changes with it', () => {
    const a = leaveOneOut(data, { seed: 5 });
    const b = leaveOneOut(data, { seed: 5 });
    const c = leaveOneOut(data, { seed: 6 });
    assert.deepEqual(a.users[3]!.testNegatives, b.users[3]!.testNegatives);
    assert.notDeepEqual(a.users[3]!.testNegatives, c.users[3]!.testNegatives);
  });

  it('breaks timestamp ties towards the later row and skips users with one interaction', () => {
    const d = parseMovieLens('1\t10\t5\t100\n1\t11\t5\t100\n2\t10\t3\t50\n3\t12\t1\t1\n3\t13\t1\t2\n');
    const split = leaveOneOut(d, { negatives: 1, seed: 1 });
    assert.equal(split.skippedUsers, 1);
    assert.equal(d.itemIds[split.users[0]!.testItem], '11');
    const solo = holdOutLatest(0, [4, 2, 9], [30, 10, 20], 12, { negatives: 5, seed: 2 });
    assert.equal(solo.testItem, 4);
    assert.deepEqual([...solo.trainItems], [2, 9]);
  });
});
