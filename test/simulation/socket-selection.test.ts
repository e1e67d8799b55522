import assert from 'node:assert/strict';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { chooseRoundOnValidation } from '@fedrec/simulate/socket/best-round.js';
import { coverageOf } from '@fedrec/simulate/socket/coverage.js';
import { runSocketSimulation } from '@fedrec/simulate/socket/run-simulation.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';

describe('simulation over real Socket.IO: validation, coverage, round config and abandoned rounds', function () {
  this.timeout(180_000);
  const split = leaveOneOut(generateSyntheticInteractions({ users: 40, items: 120, interactionsPerUser: 15, seed: 7 }), { seed: 3, validation: true });
  const base = {
    users: split.users,
    modelSpec: { name: 'neumf', options: recsysModelOptions(split.numItems) },
    clientsPerRound: 'all' as const,
    serverLearningRate: 1,
    workers: 1,
    engine: 'js' as const,
    seed: 1,
  };

  it('devices report validation and test metrics, every device is covered, and FedProx μ + an lr schedule travel as round config', async () => {
    const result = await runSocketSimulation({
      ...base,
      rounds: 3,
      trainingConfig: { localEpochs: 1, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 4 } },
      strategy: { name: 'fedyogi' },
      roundConfig: { proximalMu: 0.01, clientLrSchedule: 'exponential:0.9' },
      evaluateEvery: 1,
    });
    assert.equal(result.stopped, null);
    const evaluated = result.rounds.filter((r) => r.hr10 !== null);
    assert.equal(evaluated.length, 3);
    for (const r of evaluated) {
      assert.ok(r.valHr10 !== null && r.valNdcg10 !== null, 'validation metrics present');
      assert.equal(r.evalDevices, 40);
      assert.equal(r.evalFailures, 0);
    }
    const chosen = chooseRoundOnValidation(result.rounds);
    assert.ok(chosen !== null && evaluated.some((r) => r.round === chosen));
    assert.deepEqual(coverageOf(split.users, result.evaluatedDevices.get(chosen)!), { devices: 40, covered: 40, missing: [] });
  });

  it('ends with a reason, instead of retrying for ever, when rounds keep being abandoned', async () => {
    // A learning rate of 1e6 makes every device's delta non-finite: the coordinator accepts none and abandons each round.
    const result = await runSocketSimulation({
      ...base,
      users: split.users.slice(0, 6),
      rounds: 5,
      trainingConfig: { localEpochs: 1, batchSize: 1, learningRate: 1e6, optimizer: 'sgd', extra: { negatives: 4 } },
      evaluateEvery: 1,
      maxAbandoned: 2,
      retryDelayMs: 0,
    });
    assert.match(result.stopped ?? '', /2 rounds in a row were abandoned/);
    // The round in flight when the run stops may be recorded too (abandoned by the stop).
    assert.ok(result.rounds.filter((r) => r.outcome === 'abandoned').length >= 2);
    assert.ok(result.rounds.every((r) => r.outcome === 'abandoned'));
    assert.equal(result.final, null, 'no figure to publish');
  });
});
