import assert from 'node:assert/strict';
import { resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { defaultTrainingConfigFor } from '@fedrec/coordinator-cli/default-model.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { parseLrSchedule } from '@fedrec/coordinator/strategy/lr-schedule.js';
import { modelTrainingDefaults } from '@fedrec/models/registry.js';
import { recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { withModelTrainingDefaults } from '@fedrec/simulate/model-training-defaults.js';
import { initialWeights } from '../coordinator/helpers.js';

// The seq model registers its own client lr and lr schedule (models/seq/entry.ts): the recommender
// family's lr 0.5 is too high for it without decay. A flag given still wins; other models are untouched.
describe('the seq model’s registered training defaults', function () {
  this.timeout(60_000);

  it('the registry carries them, the schedule is a valid spec, and models without any get none', () => {
    const seq = modelTrainingDefaults('seq');
    assert.equal(seq.learningRate, 1);
    assert.ok(seq.clientLrSchedule);
    assert.doesNotThrow(() => parseLrSchedule(seq.clientLrSchedule!));
    assert.deepEqual(modelTrainingDefaults('neumf'), {});
    assert.deepEqual(modelTrainingDefaults('not-a-model'), {}, 'an unknown name is reported by whoever loads the model');
  });

  it('npm start: seq gets the recommender settings under its own lr, and its schedule in every round’s fit config', async () => {
    assert.deepEqual(defaultTrainingConfigFor('neumf'), recsysTrainingConfig(), 'NeuMF unchanged');
    assert.deepEqual(defaultTrainingConfigFor('seq'), { ...recsysTrainingConfig(), learningRate: 1 });
    const fitLr = async (flags: Record<string, unknown>) => {
      const o = coordinatorOptionsFromCli(resolveCliConfig({ model: 'seq', modelOptions: { numItems: 5 }, ...flags }), initialWeights(), silentLogger);
      const clients = [{ clientId: 'a', connectedAt: 0 }];
      const [instruction] = await o.strategy!.configureFit({
        roundId: 3,
        modelVersion: 2,
        global: initialWeights(),
        clients,
        sampleSize: 1,
        config: o.trainingConfig!,
      });
      return instruction!.config.learningRate;
    };
    // Version 2 under exponential:0.9: 1 × 0.81.
    assert.ok(Math.abs((await fitLr({})) - 0.81) < 1e-9);
    assert.ok(Math.abs((await fitLr({ learningRate: 0.2, clientLrSchedule: 'constant' })) - 0.2) < 1e-9, 'flags override both');
  });

  it('npm run simulate: applies them unless --lr / --client-lr-schedule say otherwise', () => {
    const flags = { lr: 0.5, localEpochs: 1, batchSize: 4, model: 'seq' };
    const none = () => false;
    assert.deepEqual(withModelTrainingDefaults('seq', flags, none), { ...flags, lr: 1, clientLrSchedule: modelTrainingDefaults('seq').clientLrSchedule });
    const given = withModelTrainingDefaults('seq', { ...flags, lr: 0.3, clientLrSchedule: 'constant' }, (f) => f === 'lr' || f === 'clientLrSchedule');
    assert.equal(given.lr, 0.3);
    assert.equal(given.clientLrSchedule, 'constant');
    assert.deepEqual(withModelTrainingDefaults('neumf', flags, none), flags, 'NeuMF keeps the family defaults');
  });
});
