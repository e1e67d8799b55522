import assert from 'node:assert/strict';
import { resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { parseCoordinatorOptions } from '@fedrec/coordinator/options.js';
import { PRIVACY_PRESET_TABLE } from '@fedrec/coordinator/privacy/presets.js';
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

  it('an explicit --secure-aggregation off keeps the preset’s DP with central noise (plain mode)', () => {
    const o = resolved({ privacy: 'standard', secureAggregation: 'off' });
    assert.equal(o.secureAggregation, 'off');
    const p = o.privacy as Exclude<typeof o.privacy, 'off'>;
    assert.equal(p.placement, 'central');
    assert.equal(p.noiseMultiplier, 1);
    assert.equal(p.adaptiveClip, undefined, 'fixed clipping unless --dp-clip adaptive');
  });

  it('--dp-clip adaptive[:q]: the preset’s clip norm becomes the initial one, in plain mode and under secure aggregation', () => {
    const o = resolved({ privacy: 'strict', secureAggregation: 'off', dpClip: 'adaptive:0.7' });
    const p = o.privacy as Exclude<typeof o.privacy, 'off'>;
    assert.deepEqual(p.adaptiveClip, { targetQuantile: 0.7, learningRate: 0.2 });
    assert.equal(p.clipNorm, 0.5);
    assert.equal((resolved({ privacy: 'standard', secureAggregation: 'off', dpClip: 'adaptive' }).privacy as typeof p).adaptiveClip?.targetQuantile, 0.5);
    assert.equal((resolved({ privacy: 'standard', dpClip: 'fixed' }).privacy as typeof p).adaptiveClip, undefined);
    // Under secure aggregation each device masks its clipping bit (distributed noise, the preset's placement).
    const masked = resolved({ privacy: 'standard', dpClip: 'adaptive' });
    assert.equal(masked.secureAggregation, 'secagg+');
    assert.equal((masked.privacy as typeof p).adaptiveClip?.targetQuantile, 0.5);
    assert.equal((resolved({ privacy: 'standard', secureAggregation: 'secagg', dpClip: 'adaptive' }).privacy as typeof p).adaptiveClip?.targetQuantile, 0.5);
    assert.throws(() => resolveCliConfig({ secureAggregation: 'off', dpClip: 'adaptive' }), /--dp-clip.*needs a DP preset/);
    for (const bad of ['adaptive:1', 'adaptive:0', 'adaptive:x', 'sometimes']) {
      assert.throws(() => resolveCliConfig({ privacy: 'standard', secureAggregation: 'off', dpClip: bad }), /--dp-clip/, bad);
    }
  });

  it('strict is standard with twice the noise, a quarter of the budget and half the sampling', () => {
    const [standard, strict] = [PRIVACY_PRESET_TABLE.standard, PRIVACY_PRESET_TABLE.strict];
    const rest = (p: typeof standard) => {
      const { summary, clientsPerRound, privacy, ...others } = p;
      void summary;
      void clientsPerRound;
      const { noiseMultiplier, epsilonBudget, ...dp } = privacy as Exclude<typeof privacy, 'off' | undefined>;
      void noiseMultiplier;
      void epsilonBudget;
      return { others, dp };
    };
    assert.deepEqual(rest(strict), rest(standard));
  });

  it('refuses an unknown preset with the flag named', () => {
    assert.throws(() => resolveCliConfig({ privacy: 'max' }), /--privacy/);
  });
});
