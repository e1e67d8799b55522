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

// The seq model registers its own client lr, lr schedule and training negatives (models/seq/entry.ts):
// the recommender family's 4 negatives and lr 0.5 under decay are not its best. A flag given still wins;
// other models are untouched.
describe('the seq model’s registered training defaults', function () {
  this.timeout(120_000);

  it('the registry carries them, the schedule is a valid spec, and models without any get none', () => {
    const seq = modelTrainingDefaults('seq');
    assert.equal(seq.learningRate, 0.5);
    assert.equal(seq.clientLrSchedule, 'constant');
    assert.equal(seq.negatives, 1);
    assert.doesNotThrow(() => parseLrSchedule(seq.clientLrSchedule!));
    assert.deepEqual(modelTrainingDefaults('neumf'), {});
    assert.deepEqual(modelTrainingDefaults('not-a-model'), {}, 'an unknown name is reported by whoever loads the model');
  });

  it('npm start: seq gets the recommender settings under its own lr and negatives, and its schedule in every round’s fit config', async () => {
    assert.deepEqual(defaultTrainingConfigFor('neumf'), recsysTrainingConfig(), 'NeuMF unchanged');
    const family = recsysTrainingConfig();
    assert.deepEqual(defaultTrainingConfigFor('seq'), { ...family, learningRate: 0.5, extra: { ...family.extra, negatives: 1 } });
    const fitConfig = async (flags: Record<string, unknown>) => {
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
      return instruction!.config;
    };
    const own = await fitConfig({});
    assert.equal(own.learningRate, 0.5, 'constant: version 2 still at 0.5');
    assert.equal(own.extra?.['negatives'], 1);
    // Flags override each: version 2 under exponential:0.5 is 0.2 × 0.25; --training-extra replaces the extra settings.
    const flagged = await fitConfig({ learningRate: 0.2, clientLrSchedule: 'exponential:0.5', trainingExtra: { negatives: 3 } });
    assert.ok(Math.abs(flagged.learningRate - 0.05) < 1e-9, 'flags override lr and schedule');
    assert.equal(flagged.extra?.['negatives'], 3, 'and negatives');
  });

  it('npm run simulate: applies them unless --lr / --client-lr-schedule / --negatives say otherwise', () => {
    const flags = { lr: 0.5, localEpochs: 1, batchSize: 4, negatives: 4, model: 'seq' };
    const none = () => false;
    assert.deepEqual(withModelTrainingDefaults('seq', { ...flags, lr: 0.7 }, none), { ...flags, lr: 0.5, clientLrSchedule: 'constant', negatives: 1 });
    const given = withModelTrainingDefaults('seq', { ...flags, lr: 0.3, clientLrSchedule: 'exponential:0.9', negatives: 2 }, (f) => f !== 'localEpochs');
    assert.equal(given.lr, 0.3);
    assert.equal(given.clientLrSchedule, 'exponential:0.9');
    assert.equal(given.negatives, 2);
    assert.deepEqual(withModelTrainingDefaults('neumf', flags, none), flags, 'NeuMF keeps the family defaults');
  });

  it('npm run simulate --model seq: the run (coordinator and devices) uses FedAvg, no PFedRec, a tied table with attention, lr 0.5 constant and 1 negative', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'fedrec-seq-defaults-')), 'r.json');
    const args = ['tsx', 'apps/simulate/main.ts', '--model', 'seq', '--data', 'sequential-pattern', '--synthetic-users', '12'];
    args.push('--rounds', '2', '--evaluate-every', '1', '--workers', '1', '--report', report);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('npx', args, { timeout: 110_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    const r = JSON.parse(readFileSync(report, 'utf8')) as { config: Record<string, unknown> & { modelOptions: Record<string, unknown> } };
    assert.equal(r.config['strategy'], 'fedavg');
    assert.equal(r.config['personalization'], 'none');
    assert.equal(r.config['learningRate'], 0.5);
    assert.equal(r.config['clientLrSchedule'], 'constant');
    assert.equal(r.config['negatives'], 1);
    assert.equal(r.config.modelOptions['tied'], true);
    assert.equal(r.config.modelOptions['attention'], true);
    // The line the run prints from the settings it hands the coordinator and the device fleet.
    assert.match(out, /client lr 0\.5 \(constant\), personalization none, strategy fedavg/);
  });
});
