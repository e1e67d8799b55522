import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  this.timeout(120_000);

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

  it('npm run simulate --model seq: the run (coordinator and devices) uses FedAvg, no PFedRec, lr 1 and its decay', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'fedrec-seq-defaults-')), 'r.json');
    const args = ['tsx', 'apps/simulate/main.ts', '--model', 'seq', '--data', 'sequential-pattern', '--synthetic-users', '12'];
    args.push('--rounds', '2', '--evaluate-every', '1', '--workers', '1', '--report', report);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('npx', args, { timeout: 110_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    const r = JSON.parse(readFileSync(report, 'utf8')) as { config: Record<string, unknown> };
    assert.equal(r.config['strategy'], 'fedavg');
    assert.equal(r.config['personalization'], 'none');
    assert.equal(r.config['learningRate'], 1);
    assert.equal(r.config['clientLrSchedule'], modelTrainingDefaults('seq').clientLrSchedule);
    // The line the run prints from the settings it hands the coordinator and the device fleet.
    assert.match(out, /client lr 1 \(exponential:0\.9\), personalization none, strategy fedavg/);
  });
});
