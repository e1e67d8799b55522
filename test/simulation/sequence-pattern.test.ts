import assert from 'node:assert/strict';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { generateSequentialPattern } from '@fedrec/recsys/data/sequential-pattern.js';
import { withSequences } from '@fedrec/recsys/data/sequences.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { runSocketSimulation, type SocketSimulationResult } from '@fedrec/simulate/socket/run-simulation.js';
import type { ModelSpec, TrainingConfig } from '@fedrec/protocol';
import { defaultTrainingConfigFor } from '@fedrec/coordinator-cli/default-model.js';

// The test: on a sequential pattern (next = f(previous)), the sequence model, trained federatedly
// over real Socket.IO by the same trainer and engine rule as every device, clearly beats order-blind NeuMF.
describe('simulation over real Socket.IO: a sequential pattern only an order-aware model can use', function () {
  this.timeout(600_000);
  const data = generateSequentialPattern({ users: 150, items: 150, length: 20, follow: 0.8, seed: 5 });
  const split = leaveOneOut(data, { seed: 3 });
  const users = withSequences(data, split.users);
  const run = (modelSpec: ModelSpec, trainingConfig: TrainingConfig): Promise<SocketSimulationResult> =>
    runSocketSimulation({
      users,
      modelSpec,
      rounds: 8,
      clientsPerRound: 'all',
      trainingConfig,
      serverLearningRate: 1,
      evaluateEvery: 8,
      workers: 2,
      engine: 'auto',
      seed: 1,
    });

  it('the seq model’s HR@10 is far above NeuMF’s', async () => {
    const pop = evaluateItemPop(split.users, split.numItems);
    // Each model with the client settings `npm start` gives it (seq: its registered lr 0.5, constant, and 1 negative).
    const seq = await run({ name: 'seq', options: seqModelOptions(split.numItems) }, defaultTrainingConfigFor('seq')!);
    const neumf = await run({ name: 'neumf', options: recsysModelOptions(split.numItems) }, defaultTrainingConfigFor('neumf')!);
    assert.ok(seq.rounds.every((r) => r.outcome === 'committed' && r.failures === 0));
    assert.equal(seq.engine, 'js', 'the SDK’s rule picks the plain-JS engine on this CPU');
    const s = seq.final!.hr10;
    const n = neumf.final!.hr10;
    const msg = `seq ${s.toFixed(3)}, NeuMF ${n.toFixed(3)}, ItemPop ${pop.hr10.toFixed(3)}`;
    // NeuMF sees each user's set only: the pairs (x, f(x)) in it leak a little co-occurrence, no order.
    assert.ok(s > n + 0.3 && s > 2 * n, `the sequence model learns next = f(previous) (${msg})`);
    assert.ok(s > pop.hr10 + 0.4, `far above popularity (${msg})`);
  });
});
