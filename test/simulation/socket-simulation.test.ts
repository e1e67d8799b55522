import assert from 'node:assert/strict';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { runSocketSimulation } from '@fedrec/simulate/socket/run-simulation.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';

describe('simulation over real Socket.IO (synthetic data)', function () {
  this.timeout(120_000);

  it('trains 200 devices in worker threads and rises clearly above ItemPop', async () => {
    const split = leaveOneOut(generateSyntheticInteractions({ users: 200, items: 300, interactionsPerUser: 25, seed: 11 }), { seed: 3 });
    const pop = evaluateItemPop(split.users, split.numItems);
    const rounds = 12;
    const started: number[] = [];
    let fits = 0;
    const result = await runSocketSimulation({
      users: split.users,
      modelSpec: { name: 'neumf', options: recsysModelOptions(split.numItems) },
      rounds,
      clientsPerRound: 'all',
      trainingConfig: { localEpochs: 2, batchSize: 4, learningRate: 1, optimizer: 'sgd', extra: { negatives: 4 } },
      serverLearningRate: 1,
      evaluateEvery: 6,
      workers: 2,
      engine: 'js',
      seed: 1,
      onRoundStarted: ({ selected }) => started.push(selected),
      onDeviceMessage: (m) => {
        if (m.type === 'fit') fits++;
      },
    });
    assert.equal(result.rounds.length, rounds);
    assert.ok(result.rounds.every((r) => r.outcome === 'committed' && r.participants === 200 && r.failures === 0));
    assert.deepEqual(started, Array(rounds).fill(200));
    assert.equal(fits, 200 * rounds, 'every device reported every fit');
    // Traffic is measured on the wire: every round moves at least the sealed deltas up; models come down once per
    // version a device lacks (a round right after an evaluation finds the version already held), so over the run.
    assert.ok(result.rounds.every((r) => r.bytesUp > 200 * 4 * 1000));
    const total = (k: 'bytesUp' | 'bytesDown') => result.rounds.reduce((n, r) => n + r[k], 0);
    assert.ok(total('bytesDown') > total('bytesUp') / 2, `down ${total('bytesDown')} vs up ${total('bytesUp')}`);
    const evaluated = result.rounds.filter((r) => r.hr10 !== null).map((r) => r.round);
    assert.deepEqual(evaluated, [5, 11]);
    assert.ok(result.rounds[rounds - 1]!.trainLoss! < result.rounds[0]!.trainLoss!, 'training loss falls');
    assert.ok(result.final && result.final.hr10 > pop.hr10 + 0.08, `federated HR@10 ${result.final?.hr10.toFixed(3)} vs ItemPop ${pop.hr10.toFixed(3)}`);
  });
});
