import assert from 'node:assert/strict';
import type { TaskContext } from '@fedrec/client-sdk/trainer.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import type { UserData } from '@fedrec/recsys/split.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';

const NUM_ITEMS = 150;

describe('RecsysTrainer with a sequence: the validation item is neither trained on nor in the state it is ranked from', function () {
  this.timeout(60_000);
  const options = seqModelOptions(NUM_ITEMS, { seqLen: 3 });
  const ctx: TaskContext = {
    roundId: 1,
    modelVersion: 0,
    modelSpec: { name: 'seq', options },
    global: defaultModelRegistry.definition('seq').initialWeights({ ...options, initStd: 0.5 }, 5),
    config: { localEpochs: 1, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 2 } },
  };
  // Time order 10, 20, 30, 40 (validation), then the test item 50; as recsys/data/sequences.ts gives it.
  const sequence = Int32Array.from([10, 20, 30, 40]);
  const negatives = Int32Array.from({ length: 99 }, (_, k) => 51 + k);
  const data: UserData = {
    user: 1,
    numItems: NUM_ITEMS,
    trainItems: Int32Array.from([10, 20, 30]),
    validationItem: 40,
    validationNegatives: negatives,
    testItem: 50,
    testNegatives: negatives,
  };

  it('fit is the fit of the sequence without it; validation is ranked from 10, 20, 30 and the test item from 10 .. 40', async () => {
    const got = await new RecsysTrainer({ data, sequence, engine: 'js' }).fit(ctx);
    const noValidation = { user: 1, numItems: NUM_ITEMS, trainItems: data.trainItems, testItem: 40, testNegatives: negatives };
    const want = await new RecsysTrainer({ data: noValidation, sequence: Int32Array.from([10, 20, 30]), engine: 'js' }).fit(ctx);
    assert.deepEqual(got.delta, want.delta);

    const evaluated = (await new RecsysTrainer({ data, sequence, engine: 'js' }).evaluate(ctx)).metrics;
    // The validation item ranked as a test item from the history before it.
    const before = (await new RecsysTrainer({ data: noValidation, sequence: Int32Array.from([10, 20, 30]), engine: 'js' }).evaluate(ctx)).metrics;
    assert.equal(evaluated['val_loss'], before['loss']);
    const withIt = { ...noValidation, testItem: 50 };
    const test = (await new RecsysTrainer({ data: withIt, sequence, engine: 'js' }).evaluate(ctx)).metrics;
    assert.equal(evaluated['loss'], test['loss']);
    assert.notEqual(evaluated['val_loss'], (await new RecsysTrainer({ data: { ...noValidation }, sequence, engine: 'js' }).evaluate(ctx)).metrics['loss']);
  });
});
