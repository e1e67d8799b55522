import assert from 'node:assert/strict';
import { resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { parseCoordinatorOptions } from '@fedrec/coordinator/options.js';
import { initialWeights, modelSpec } from '../helpers.js';

const resolved = (flags: Record<string, unknown>) => {
  const o = coordinatorOptionsFromCli(resolveCliConfig(flags), initialWeights(), silentLogger);
  return parseCoordinatorOptions({ ...o, modelSpec, initialWeights: initialWeights() });
};

describe('privacy: the --privacy presets', () => {
  it('off is the default: no DP, and the secure-aggregation mode --secure-aggregation says (secagg+ unless set)', () => {
    const o = resolved({});
    assert.equal(o.secureAggregation, 'secagg+');
    assert.equal(o.privacy, 'off');
    const plain = resolved({ secureAggregation: 'off' });
    assert.equal(plain.secureAggregation, 'off');
    assert.equal(plain.privacy, 'off');
  });

  it('standard and strict set the mode, clipping, noise, delta and budget together', () => {
    for (const name of ['standard', 'strict'] as const) {
      const o = resolved({ privacy: name });
      assert.equal(o.secureAggregation, 'secagg+');
      assert.notEqual(o.privacy, 'off');
      const p = o.privacy as Exclude<typeof o.privacy, 'off'>;
      assert.deepEqual(
        { clipNorm: p.clipNorm, noiseMultiplier: p.noiseMultiplier, delta: p.delta, epsilonBudget: p.epsilonBudget, placement: p.placement },
        {
          clipNorm: 0.5,
          noiseMultiplier: name === 'standard' ? 1 : 2,
          delta: 1e-5,
          epsilonBudget: name === 'standard' ? 8 : 2,
          placement: 'distributed',
        },
      );
      assert.equal(o.secAgg.maxWeight, 1, 'weights are 1 under DP: the quantizer keeps its precision');
      assert.equal(o.clientsPerRound, name === 'standard' ? 0.2 : 0.1, 'sampling amplifies privacy: not every client every round');
    }
  });

  it('an explicit secure-aggregation mode and secagg flags win over the preset’s', () => {
    const o = resolved({ privacy: 'standard', secureAggregation: 'secagg', secaggMaxWeight: '4', clientsPerRound: '10' });
    assert.equal(o.secureAggregation, 'secagg');
    assert.equal(o.clientsPerRound, 10);
    assert.equal(o.secAgg.maxWeight, 4);
    assert.notEqual(o.privacy, 'off');
  });

  it('refuses an unknown preset with the flag named', () => {
    assert.throws(() => resolveCliConfig({ privacy: 'max' }), /--privacy/);
  });
});
