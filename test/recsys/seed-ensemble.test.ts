import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { evaluateCentralized, type CentralizedOptions } from '@fedrec/recsys/baselines/centralized.js';
import { evaluateMeanLogits, trainSeedEnsemble } from '@fedrec/recsys/baselines/seed-ensemble.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { countingTestItemReads } from './test-item-reads.js';

describe('recsys: seed ensemble of the strong baseline', () => {
  const data = generateSyntheticInteractions({ users: 30, items: 120, interactionsPerUser: 12, seed: 4 });
  const split = leaveOneOut(data, { seed: 2, validation: true });
  const arch = ncfArch('mf', recsysModelOptions(split.numItems, { factors: 8 }));
  const o: CentralizedOptions = { epochs: 4, batchSize: 64, learningRate: 0.01, optimizer: 'adam', negatives: 2, seed: 1, evalEvery: 1, patience: 2 };

  it('members train from consecutive seeds; one seed is the single model; the mean of identical nets is that net', () => {
    const e = trainSeedEnsemble(arch, split.users, split.numUsers, o, 2);
    assert.equal(e.members.length, 2);
    assert.notDeepEqual(
      e.members[0]!.history.map((h) => h.trainLoss),
      e.members[1]!.history.map((h) => h.trainLoss),
      'different seeds, different runs',
    );
    const one = trainSeedEnsemble(arch, split.users, split.numUsers, o, 1);
    assert.deepEqual(one.final, e.members[0]!.final, 'seed o.seed is member 0, and alone it is the single model');
    const net = e.members[0]!.net;
    assert.deepEqual(evaluateMeanLogits([net, net], split.users), evaluateCentralized(net, split.users));
    assert.throws(() => trainSeedEnsemble(arch, split.users, split.numUsers, o, 0), /positive integer/);
  });

  it('the ensemble reads each test item once more, after every member has chosen its epoch on validation', () => {
    const counted = countingTestItemReads(split.users);
    const users = counted.users;
    const e = trainSeedEnsemble(arch, users, split.numUsers, o, 3);
    // Each member reads it once before training (kept out of its negatives) and once for its own
    // (reported, never used for choosing) figure; the ensemble once.
    assert.equal(counted.reads, 7 * users.length);
    assert.ok(e.members.every((m) => m.validation !== null && m.bestEpoch >= 1));
  });
});
