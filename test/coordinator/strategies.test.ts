import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STRATEGY_NAMES, createStrategy, parseStrategyOptions, strategyEntry } from '@fedrec/coordinator/strategy/registry.js';
import { withRoundConfig } from '@fedrec/coordinator/strategy/round-config.js';
import { strategyContract, type StrategyExpectations } from './strategy.contract.js';

// Strategy-specific maths for the contract; a strategy without an entry is held to "moves towards the delta".
const EXPECTATIONS: Record<string, StrategyExpectations> = {
  fedavg: { firstStep: (d) => d },
  // The velocity starts at zero, so the first step is the average itself; later it keeps moving rows touched before.
  fedavgm: { firstStep: (d) => d, carriesUntouchedRows: true },
  // With one update, its median, its trimmed mean and its Krum selection are the update itself.
  median: { firstStep: (d) => d },
  'trimmed-mean': { firstStep: (d) => d },
  krum: { firstStep: (d) => d },
  // Defaults (η 0.05, β 0.9/0.99, τ 1e-3), from zero moments: m = 0.1d, v = 0.01d², no bias correction.
  fedyogi: { firstStep: (d) => (0.05 * 0.1 * d) / (0.1 * Math.abs(d) + 1e-3) },
  // Defaults (η 0.1, β1 0, τ 1e-9): m = d, v = d².
  fedadagrad: { firstStep: (d) => (0.1 * d) / (Math.abs(d) + 1e-9) },
};

for (const name of STRATEGY_NAMES) strategyContract(name, (deps) => createStrategy(name, {}, deps), EXPECTATIONS[name]);
// A client lr schedule leaves round 1's config as it is (factor 1) and every other hook to the strategy.
for (const name of ['fedavgm', 'krum'] as const)
  strategyContract(
    `${name} with a client lr schedule`,
    (deps) => withRoundConfig(createStrategy(name, {}, deps), { clientLrSchedule: 'step:1:0.5' }),
    EXPECTATIONS[name],
  );

/** The names in the README's strategy table (the rows of the table under "## Aggregation strategies"). */
function readmeStrategies(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Aggregation strategies$/m)[1];
  assert.ok(section, 'the README has an "## Aggregation strategies" section');
  const table = section.split(/^## /m)[0]!;
  return [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!);
}

describe('strategy registry', () => {
  it('builds each strategy by name, with its name, and validates options against its schema', () => {
    for (const name of STRATEGY_NAMES) {
      assert.equal(createStrategy(name).name, name);
      assert.ok(strategyEntry(name).description.length > 0);
      assert.throws(() => parseStrategyOptions(name, { noSuchOption: 1 }), new RegExp(`strategy ${name}`));
    }
    assert.throws(() => createStrategy('fedprox'), /unknown strategy "fedprox"; registered: fedavg/);
    assert.throws(() => createStrategy('fedavgm', { momentum: 1 }), /momentum/);
  });

  it('the README strategy table lists exactly the registered strategies', () => {
    assert.deepEqual([...readmeStrategies()].sort(), [...STRATEGY_NAMES].sort());
  });
});
