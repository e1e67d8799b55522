import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { planSequenceTraining } from '@fedrec/models/seq/plan.js';
import { seqArch } from '@fedrec/models/seq/arch.js';
import { seqInitialWeights } from '@fedrec/models/seq/init.js';
import { DEFAULT_TRAINING_CONFIG, type Weights } from '@fedrec/protocol';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { trainCentralized } from '@fedrec/recsys/baselines/centralized.js';
import { trainSeqCentralized, SEQ_CENTRALIZED } from '@fedrec/recsys/baselines/seq-centralized.js';
import { withSequences } from '@fedrec/recsys/data/sequences.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { leaveOneOut, negativeExclusions, NEGATIVE_EXCLUSIONS, type NegativeExclusion, type UserData } from '@fedrec/recsys/split.js';
import { countingTestItemReads } from './test-item-reads.js';
import { heldOutFixtureUser } from './held-out-fixture.js';

// The strict protocol (--negative-exclusion validation): training keeps only the validation item out of
// its sampled negatives, so nothing in training reads the test item; every read is counted.
describe('negative exclusion modes: the strict protocol never reads the test item in training', function () {
  this.timeout(60_000);
  const numItems = 12;
  const user: UserData = heldOutFixtureUser();

  // 640 draws over at most 8 candidates: an item that may be drawn is drawn (the assertions can fail).
  const drawnBy = (mode: NegativeExclusion, plan: 'ncf' | 'seq') => {
    const o = { epochs: 20, negatives: 8, seed: 3, heldOut: negativeExclusions(user, mode) };
    const p = plan === 'ncf' ? planLocalTraining(user.trainItems, numItems, o) : planSequenceTraining(user.trainItems, numItems, { ...o, seqLen: 3 });
    const drawn = new Set<number>();
    for (const e of p.epochs) e.labels.forEach((y, k) => y === 0 && drawn.add(p.localItems[e.rows[k]!]!));
    return drawn;
  };

  for (const plan of ['ncf', 'seq'] as const)
    it(`${plan} plan: held-out excludes both, validation only the validation item, none neither`, () => {
      const held = drawnBy('held-out', plan);
      assert.ok(!held.has(4) && !held.has(5));
      const strict = drawnBy('validation', plan);
      assert.ok(strict.has(4) && !strict.has(5), `strict draws ${[...strict].join(',')}`);
      const none = drawnBy('none', plan);
      assert.ok(none.has(4) && none.has(5));
    });

  it('negativeExclusions reads testItem only under held-out', () => {
    for (const mode of NEGATIVE_EXCLUSIONS) {
      const counted = countingTestItemReads([user]);
      negativeExclusions(counted.users[0]!, mode);
      assert.equal(counted.reads, mode === 'held-out' ? 1 : 0, mode);
    }
  });

  const fitReads = async (mode: NegativeExclusion | undefined, model: 'mf' | 'seq') => {
    const counted = countingTestItemReads([user]);
    const options = model === 'mf' ? { numItems, factors: 4 } : seqModelOptions(numItems, { factors: 4, seqLen: 3 });
    const global: Weights = model === 'mf' ? ncfInitialWeights(ncfArch('mf', options), 1) : seqInitialWeights(seqArch(options), 1);
    const trainer = new RecsysTrainer({ data: counted.users[0]!, ...(model === 'seq' ? { sequence: user.trainItems } : {}), seed: 5, engine: 'js' });
    const extra = { negatives: 4, ...(mode ? { negativeExclusion: mode } : {}) };
    const config = { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.1, batchSize: 4, localEpochs: 2, extra };
    await trainer.fit({ roundId: 1, modelVersion: 1, config, modelSpec: { name: model, options }, global });
    return counted.reads;
  };

  for (const model of ['mf', 'seq'] as const)
    it(`a device's ${model} round reads the test item under held-out (the default) and never under validation or none`, async () => {
      assert.ok((await fitReads(undefined, model)) > 0, 'the default reads it: the counter works');
      assert.ok((await fitReads('held-out', model)) > 0);
      assert.equal(await fitReads('validation', model), 0);
      assert.equal(await fitReads('none', model), 0);
    });

  it('a device refuses an unknown mode in the round config with a clear error, before training', async () => {
    const counted = countingTestItemReads([user]);
    const options = { numItems, factors: 4 };
    const trainer = new RecsysTrainer({ data: counted.users[0]!, seed: 5, engine: 'js' });
    const config = { ...DEFAULT_TRAINING_CONFIG, extra: { negativeExclusion: 'test' } };
    await assert.rejects(
      trainer.fit({ roundId: 1, modelVersion: 1, config, modelSpec: { name: 'mf', options }, global: ncfInitialWeights(ncfArch('mf', options), 1) }),
      /negative exclusion must be one of held-out, validation, none/,
    );
    assert.equal(counted.reads, 0);
  });

  const data = generateSyntheticInteractions({ users: 30, items: 120, interactionsPerUser: 12, seed: 4 });
  const split = leaveOneOut(data, { seed: 2, validation: true });

  it('strict centralized NCF baseline (with refit): no test-item read until the chosen epoch is evaluated, then one per user', () => {
    const counted = countingTestItemReads(split.users);
    const atEpochEnd: number[] = [];
    const arch = ncfArch('mf', recsysModelOptions(split.numItems, { factors: 8 }));
    const o = { epochs: 5, batchSize: 64, learningRate: 0.01, optimizer: 'adam' as const, negatives: 2, seed: 1, evalEvery: 1, patience: 2 };
    trainCentralized(arch, counted.users, split.numUsers, { ...o, refit: true, negativeExclusion: 'validation' }, () => atEpochEnd.push(counted.reads));
    assert.ok(atEpochEnd.length >= 2 && atEpochEnd.every((n) => n === 0), `reads during training: ${atEpochEnd.join(',')}`);
    assert.equal(counted.reads, split.users.length, 'read once per user, to report the chosen epoch');
    // The default reads it once per user before training (to keep it out of the negatives).
    const held = countingTestItemReads(split.users);
    const first: number[] = [];
    trainCentralized(arch, held.users, split.numUsers, { ...o, epochs: 1 }, () => first.push(held.reads));
    assert.deepEqual(first, [split.users.length]);
  });

  it('strict centralized seq baseline: no test-item read in training', () => {
    const users = withSequences(data, split.users);
    const counted = countingTestItemReads(users);
    const atEpochEnd: number[] = [];
    const o = { ...SEQ_CENTRALIZED, epochs: 3, seed: 3, negativeExclusion: 'validation' as const };
    // countingTestItemReads keeps trainSequence (an own property): the copies are still SequenceUserData.
    trainSeqCentralized(seqModelOptions(split.numItems), counted.users as typeof users, o, () => atEpochEnd.push(counted.reads));
    assert.ok(
      atEpochEnd.every((n) => n === 0),
      `reads during training: ${atEpochEnd.join(',')}`,
    );
    assert.equal(counted.reads, users.length);
  });
});
