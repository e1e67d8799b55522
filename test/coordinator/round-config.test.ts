import assert from 'node:assert/strict';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { roundConfig, withRoundConfig } from '@fedrec/coordinator/strategy/round-config.js';
import type { ConfigureArgs } from '@fedrec/coordinator/strategy/strategy.js';
import { DEFAULT_TRAINING_CONFIG, trainingConfigSchema, type TrainingConfig } from '@fedrec/protocol';
import { initialWeights } from './helpers.js';

const base: TrainingConfig = { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.8 };
const args = (roundId: number): ConfigureArgs => ({
  roundId,
  modelVersion: roundId - 1,
  global: initialWeights(),
  clients: [{ clientId: 'a', connectedAt: 0 }],
  sampleSize: 1,
  config: base,
});

describe('coordinator: round config (client lr schedule, FedProx μ)', () => {
  it("sends round r's client lr from the schedule and μ in every fit config", async () => {
    const s = withRoundConfig(createStrategy('fedavg'), { clientLrSchedule: 'step:2:0.5', proximalMu: 0.01 });
    const lrs = [];
    for (const r of [1, 2, 3, 5]) {
      const [i] = await s.configureFit(args(r));
      assert.equal(i!.config.proximalMu, 0.01);
      // What a device receives passes the protocol's validation.
      assert.deepEqual(trainingConfigSchema.parse(i!.config), i!.config);
      lrs.push(i!.config.learningRate);
    }
    assert.deepEqual(lrs, [0.8, 0.8, 0.4, 0.2]);
  });

  it('changes nothing without a schedule or μ, and keeps optional hooks exactly as the strategy has them', () => {
    const fedavg = createStrategy('fedavg');
    assert.equal(withRoundConfig(fedavg, {}), fedavg);
    assert.deepEqual(roundConfig(base, 9, { proximalMu: 0 }), base);
    const krum = withRoundConfig(createStrategy('krum'), { proximalMu: 0.1 });
    assert.equal(typeof krum.aggregateUpdates, 'function', 'a buffering strategy stays buffering');
    const avg = withRoundConfig(createStrategy('fedavg'), { proximalMu: 0.1 });
    assert.equal(avg.aggregateUpdates, undefined, 'a streaming strategy stays streaming');
    assert.equal(typeof withRoundConfig(createStrategy('fedyogi'), { proximalMu: 0.1 }).saveState, 'function', 'moments still checkpointed');
  });

  it('the protocol refuses a negative or absurd μ', () => {
    assert.throws(() => trainingConfigSchema.parse({ ...base, proximalMu: -1 }));
    assert.throws(() => trainingConfigSchema.parse({ ...base, proximalMu: 1e9 }));
  });
});
