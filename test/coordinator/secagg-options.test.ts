import assert from 'node:assert/strict';
import { configFromEnv, resolveCliConfig } from '@fedrec/coordinator-cli/cli-config.js';
import { coordinatorOptionsFromCli } from '@fedrec/coordinator-cli/cli-options.js';
import { parseCoordinatorOptions, PlainFitCollector, silentLogger } from '@fedrec/coordinator';
import { initialWeights, testOptions } from './helpers.js';

describe('coordinator: secure-aggregation options', () => {
  it('CLI flags and env choose the mode and settings; the options pick the SecAgg collector', () => {
    const cli = resolveCliConfig(configFromEnv({ FEDREC_SECURE_AGGREGATION: 'secagg+', FEDREC_SECAGG_NEIGHBOURS: '6' }), {
      secaggThreshold: '0.6',
      clipRange: '0.5',
      quantizationBits: '20',
      secaggMaxWeight: '50',
      secaggStageTimeoutMs: '1500',
    });
    const options = parseCoordinatorOptions(coordinatorOptionsFromCli(cli, initialWeights(), silentLogger));
    assert.equal(options.secureAggregation, 'secagg+');
    assert.equal(options.fitCollector.name, 'secagg+');
    assert.deepEqual(
      { ...options.secAgg },
      {
        threshold: 0.6,
        neighbours: 6,
        clipRange: 0.5,
        maxWeight: 50,
        quantizationBits: 20,
        rounding: 'stochastic',
        dropoutRate: 0.3,
        corruptionRate: 0.05,
        advertiseTimeoutMs: 1500,
        shareKeysTimeoutMs: 1500,
        unmaskTimeoutMs: 1500,
      },
    );
  });

  it('defaults to the plain collector, and refuses contradictory or impossible settings with a clear message', () => {
    assert.ok(parseCoordinatorOptions(testOptions()).fitCollector instanceof PlainFitCollector);
    assert.throws(
      () => parseCoordinatorOptions(testOptions({ secureAggregation: 'secagg', fitCollector: new PlainFitCollector() })),
      /either fitCollector or secureAggregation/,
    );
    assert.throws(() => parseCoordinatorOptions(testOptions({ secureAggregation: 'secagg', minClients: 300 })), /at most 255 clients.*secagg\+/);
    assert.equal(parseCoordinatorOptions(testOptions({ secureAggregation: 'secagg+', minClients: 300 })).fitCollector.name, 'secagg+');
    assert.throws(() => parseCoordinatorOptions(testOptions({ secureAggregation: 'secagg', secAgg: { neighbours: 3 } })), /even/);
    assert.throws(() => resolveCliConfig({ secureAggregation: 'on' }), /secureAggregation/);
  });
});
