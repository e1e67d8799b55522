import { PlainFitCollector } from '@fedrec/coordinator';
import { SecAggFitCollector } from '@fedrec/coordinator/secagg-fit-collector.js';
import { parseSecAggConfig, type SecAggMode } from '@fedrec/protocol';
import { aggregateErrorBounds } from '@fedrec/secagg';
import { fitCollectorContract } from './fit-collector.contract.js';

const secAgg = (mode: SecAggMode) => {
  const config = parseSecAggConfig({ mode, maxWeight: 100, quantizationBits: 22 });
  return {
    // Stages 0 and 1 are instant for healthy clients: short timeouts keep the dropout cases quick.
    create: () => new SecAggFitCollector({ config, advertiseTimeoutMs: 1_000, shareKeysTimeoutMs: 1_000, unmaskTimeoutMs: 1_000 }),
    traits: { tolerance: (contributors: number) => aggregateErrorBounds(contributors, config) },
  };
};

fitCollectorContract('PlainFitCollector', () => new PlainFitCollector());
fitCollectorContract('SecAggFitCollector (secagg)', secAgg('secagg').create, secAgg('secagg').traits);
fitCollectorContract('SecAggFitCollector (secagg+)', secAgg('secagg+').create, secAgg('secagg+').traits);
// The same contract with the update pool on: opening, validation and sums in two worker threads.
fitCollectorContract('PlainFitCollector (update pool, 2 workers)', () => new PlainFitCollector({ updateWorkers: 2 }));
