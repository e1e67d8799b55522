import assert from 'node:assert/strict';
import { aggregateRound } from '@fedrec/coordinator/strategy/aggregate-round.js';
import { RoundInput } from '@fedrec/coordinator/strategy/round-input.js';
import { UpdatePolicy } from '@fedrec/coordinator/strategy/update-policy.js';
import type { StrategyDeps } from '@fedrec/coordinator/strategy/registry.js';
import type { ClientInfo, ConfigureArgs, Strategy } from '@fedrec/coordinator/strategy/strategy.js';
import { DEFAULT_TRAINING_CONFIG, type Weights } from '@fedrec/protocol';
import { ROWS, SHARED, manifest } from './helpers.js';
import { SeededRandom } from '@fedrec/models/random.js';

/** What a strategy's first step from one client's delta should be, when more than "towards the delta" is known. */
export interface StrategyExpectations {
  /** The move of the global after one round with one client (delta d, every row touched), element by element. */
  firstStep?: (d: number) => number;
  /**
   * Server momentum keeps moving a row that was touched in an earlier round but not in this one;
   * such a strategy sets this, and is then held only to "a row never touched never moves".
   */
  carriesUntouchedRows?: boolean;
}

/** A seeded uniform source, so sampling in the suite is reproducible. */
function seeded(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

const clients: ClientInfo[] = Array.from({ length: 7 }, (_, i) => ({ clientId: `c${i}`, connectedAt: i }));
const globalOf = (fill = 0.25): Weights => ({ manifest, body: Float32Array.from({ length: SHARED }, (_, i) => fill + i / 100) });
const configureArgs = (sampleSize: number): ConfigureArgs => ({
  roundId: 1,
  modelVersion: 0,
  global: globalOf(),
  clients,
  sampleSize,
  config: DEFAULT_TRAINING_CONFIG,
});

/**
 * One round's input from results given as [numExamples, delta value for every element, row weights],
 * through the coordinator's own RoundInput with the policy off (the suite checks the strategy's maths):
 * sums for every strategy, and each update as well, which buffering strategies receive instead.
 */
function sumsOf(...results: Array<[number, number, number[]]>) {
  const input = new RoundInput(manifest, new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' }), true);
  for (const [i, [n, d, rows]] of results.entries())
    input.add(`c${i}`, { numExamples: n, delta: new Float32Array(SHARED).fill(d), rowWeights: Float32Array.from(rows) });
  return input.finish();
}

/** What the round engine does with a round's input: aggregateUpdates for a buffering strategy, else aggregateFit on the sums. */
const aggregate = (strategy: Strategy, round: number, global: Weights, input: ReturnType<typeof sumsOf>) => aggregateRound(strategy, round, global, input, []);

// Test manifest: kernel [0..3], item_emb rows [4,5] [6,7] [8,9] (rowwise), bias [10,11].
const ROW = (r: number) => [4 + 2 * r, 5 + 2 * r];

/**
 * What every strategy must do, Flower-style (Prepare / Execute / Assert). Run it for a strategy with
 * a factory taking the injected dependencies; strategy-specific maths can be passed in `expect`.
 */
export function strategyContract(name: string, factory: (deps: StrategyDeps) => Strategy, expect: StrategyExpectations = {}): void {
  describe(`strategy contract: ${name}`, () => {
    it('configureFit samples sampleSize distinct connected clients, each with the round config', async () => {
      // Prepare
      const strategy = factory({ random: seeded(1) });
      for (const sampleSize of [1, 3, clients.length]) {
        // Execute
        const chosen = await strategy.configureFit(configureArgs(sampleSize));
        // Assert
        const ids = chosen.map((c) => c.clientId);
        assert.equal(ids.length, sampleSize);
        assert.equal(new Set(ids).size, sampleSize, 'distinct');
        for (const c of chosen) {
          assert.ok(
            clients.some((k) => k.clientId === c.clientId),
            `${c.clientId} is connected`,
          );
          assert.deepEqual(c.config, DEFAULT_TRAINING_CONFIG);
        }
      }
    });

    it('configureEvaluate picks distinct connected clients', async () => {
      const strategy = factory({ random: seeded(2) });
      const chosen = await strategy.configureEvaluate(configureArgs(4));
      const ids = chosen.map((c) => c.clientId);
      assert.ok(ids.length >= 1 && ids.length <= clients.length);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(ids.every((id) => clients.some((k) => k.clientId === id)));
    });

    it('aggregateFit never mutates global, keeps its manifest and returns finite values', async () => {
      const strategy = factory({ random: seeded(3) });
      const global = globalOf();
      const before = Array.from(global.body);
      for (let round = 1; round <= 3; round++) {
        const next = await aggregate(strategy, round, global, sumsOf([3, 0.5, [1, 2, 3]], [1, -2, [0, 1, 4]]));
        assert.equal(next.manifest, global.manifest, 'same manifest');
        assert.equal(next.body.length, SHARED);
        assert.notEqual(next.body, global.body, 'a fresh body');
        assert.ok(next.body.every(Number.isFinite), 'finite values');
        assert.deepEqual(Array.from(global.body), before, 'global untouched');
      }
    });

    it('zero contributors leave the model unchanged', async () => {
      const strategy = factory({ random: seeded(4) });
      const global = globalOf();
      const next = await aggregate(strategy, 1, global, sumsOf());
      assert.deepEqual(Array.from(next.body), Array.from(global.body));
    });

    it(`rows nobody touched ${expect.carriesUntouchedRows ? 'yet' : 'this round'} stay exactly unchanged, round after round`, async () => {
      const strategy = factory({ random: seeded(5) });
      let global = globalOf();
      // Row 1 is touched in round 1 only; row 2 never.
      const rounds = [sumsOf([2, 1, [1, 1, 0]]), sumsOf([2, 1, [1, 0, 0]]), sumsOf([4, -1, [3, 0, 0]])];
      for (const [i, sums] of rounds.entries()) {
        const next = await aggregate(strategy, i + 1, global, sums);
        for (const k of ROW(2)) assert.equal(next.body[k], global.body[k], `row 2 element ${k} in round ${i + 1}`);
        if (i > 0 && !expect.carriesUntouchedRows) for (const k of ROW(1)) assert.equal(next.body[k], global.body[k], `row 1 element ${k} in round ${i + 1}`);
        global = next;
      }
    });

    it('one client with delta d moves the model towards d (exactly as expected where the strategy says)', async () => {
      const global = globalOf();
      for (const d of [0.5, -0.25]) {
        // A fresh strategy per delta: stateful ones (momentum, moments) must take their first step.
        const next = await aggregate(factory({ random: seeded(6) }), 1, global, sumsOf([5, d, new Array(ROWS).fill(2)]));
        for (let k = 0; k < SHARED; k++) {
          const moved = next.body[k]! - global.body[k]!;
          if (expect.firstStep) assert.ok(Math.abs(moved - expect.firstStep(d)) < 1e-6, `element ${k}: moved ${moved}, expected ${expect.firstStep(d)}`);
          else assert.ok(Math.sign(moved) === Math.sign(d), `element ${k} moves towards the delta (moved ${moved})`);
        }
      }
    });

    it('a strategy restored from its saved state (as a checkpoint holds it) takes the same next step', async () => {
      const a = factory({ random: seeded(8) });
      let global = globalOf();
      for (let round = 1; round <= 2; round++) global = await aggregate(a, round, global, sumsOf([3, 0.5 * round, [1, 2, 0]], [1, -0.2, [0, 1, 0]]));
      const saved = a.saveState?.(manifest);
      const b = factory({ random: seeded(8) });
      if (saved) {
        assert.ok(b.loadState, 'a strategy that saves state can load it');
        b.loadState(manifest, saved);
      }
      const third = sumsOf([2, 0.3, [1, 1, 1]]);
      const fromA = await aggregate(a, 3, global, third);
      const fromB = await aggregate(b, 3, global, third);
      for (let k = 0; k < SHARED; k++) assert.ok(Math.abs(fromA.body[k]! - fromB.body[k]!) < 1e-6, `element ${k}: ${fromA.body[k]} vs ${fromB.body[k]}`);
    });

    it('behind the default update policy, one update of ×−1000 among nine honest ones cannot turn or blow up the step', async () => {
      // What the coordinator runs in plain mode: the adaptive norm bound and weight cap, then the strategy.
      const input = new RoundInput(manifest, new UpdatePolicy(), true);
      const rows = Float32Array.from(new Array(ROWS).fill(4));
      for (let i = 0; i < 9; i++) input.add(`h${i}`, { numExamples: 4, delta: new Float32Array(SHARED).fill(0.1), rowWeights: rows });
      input.add('evil', { numExamples: 4, delta: new Float32Array(SHARED).fill(-100), rowWeights: rows });
      const global = globalOf();
      const next = await aggregate(factory({ random: seeded(9) }), 1, global, input.finish());
      for (let k = 0; k < SHARED; k++) {
        const moved = next.body[k]! - global.body[k]!;
        assert.ok(moved > 0 && moved < 0.5, `element ${k} moved ${moved}; without the bound FedAvg moves it by -9.9`);
      }
    });

    it('aggregateEvaluate weights metrics by examples', async () => {
      const strategy = factory({ random: seeded(7) });
      const metrics = await strategy.aggregateEvaluate(
        1,
        [
          { clientId: 'a', numExamples: 1, metrics: { loss: 1, hr10: 0 } },
          { clientId: 'b', numExamples: 3, metrics: { loss: 3, hr10: 1 } },
        ],
        [],
      );
      assert.ok(Math.abs(metrics['loss']! - 2.5) < 1e-12);
      assert.ok(Math.abs(metrics['hr10']! - 0.75) < 1e-12);
    });
  });
}
