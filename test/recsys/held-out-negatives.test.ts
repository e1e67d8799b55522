import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { DEFAULT_TRAINING_CONFIG, sharedLayout } from '@fedrec/protocol';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { heldOutItems, type UserData } from '@fedrec/recsys/split.js';
import { heldOutFixtureUser } from './held-out-fixture.js';

// A user's validation and test items are interactions: training must not label them negative.
describe('held-out items are never sampled as negatives', () => {
  const numItems = 12;
  const user: UserData = heldOutFixtureUser();

  const negativesOf = (heldOut?: number[]) => {
    const plan = planLocalTraining(user.trainItems, numItems, { epochs: 20, negatives: 8, seed: 3, ...(heldOut ? { heldOut } : {}) });
    const drawn = new Set<number>();
    for (const e of plan.epochs) e.labels.forEach((y, k) => y === 0 && drawn.add(plan.localItems[e.rows[k]!]!));
    return drawn;
  };

  it('planLocalTraining draws from every other item, and the held-out ones only without heldOut', () => {
    // 640 draws over 8 candidates: without the option both held-out items are drawn (the test can fail).
    const without = negativesOf();
    assert.ok(without.has(4) && without.has(5), 'without heldOut the held-out items are drawn');
    const withOption = negativesOf(heldOutItems(user));
    assert.deepEqual(
      [...withOption].sort((a, b) => a - b),
      [6, 7, 8, 9, 10, 11],
    );
  });

  it("RecsysTrainer's round never touches the device's held-out item rows", async () => {
    const options = { numItems, factors: 4 };
    const trainer = new RecsysTrainer({ data: user, seed: 5, engine: 'js' });
    const config = { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.1, batchSize: 4, localEpochs: 5, extra: { negatives: 8 } };
    const global = ncfInitialWeights(ncfArch('mf', options), 1);
    const out = await trainer.fit({ roundId: 1, modelVersion: 1, config, modelSpec: { name: 'mf', options }, global });
    let rowOffset = 0;
    for (const { spec } of sharedLayout(global.manifest)) {
      if (!spec.rowwise) continue;
      const weight = (item: number) => out.rowWeights![rowOffset + item]!;
      assert.equal(weight(4), 0, `${spec.name}: test item trained`);
      assert.equal(weight(5), 0, `${spec.name}: validation item trained`);
      assert.ok(
        [6, 7, 8, 9, 10, 11].some((item) => weight(item) > 0),
        `${spec.name}: no negative drawn at all`,
      );
      rowOffset += spec.shape[0]!;
    }
  });
});
