import assert from 'node:assert/strict';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { FedAdam } from '@fedrec/coordinator/strategy/fedadam.js';
import type { Weights } from '@fedrec/protocol';
import { SHARED, manifest } from './helpers.js';

// Layout of the test manifest's shared body: kernel [0..3], item_emb rows [4,5] [6,7] [8,9] (rowwise), bias [10,11].
function oneClient(step: number, rows: number[]) {
  const acc = new UpdateAccumulator(manifest);
  acc.add(1, new Float32Array(SHARED).fill(step), Float32Array.from(rows));
  return acc.sums;
}

const close = (actual: ArrayLike<number>, expected: number[], what: string) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) < 1e-6, `${what}[${i}]: ${actual[i]} vs ${e}`));

describe('coordinator: FedAdam', () => {
  it('takes bias-corrected Adam steps on the averaged delta, by hand, and masks rows nobody touched', () => {
    const strategy = new FedAdam({ eta: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-9 });
    const global: Weights = { manifest, body: new Float32Array(SHARED) };

    // Round 1, g = 1 where reported (row 1 untouched): m = 0.1, v = 0.01, m̂ = 1, v̂ = 1, step = 0.05·1/(1 + 1e-9).
    const first = strategy.aggregateFit(1, global, oneClient(1, [1, 0, 1]), []);
    const s1 = 0.05 / (1 + 1e-9);
    close(first.body, [s1, s1, s1, s1, s1, s1, 0, 0, s1, s1, s1, s1], 'round 1');
    assert.deepEqual(Array.from(global.body), new Array(SHARED).fill(0), 'global must not be mutated');

    // Round 2, g = 3 (row 2 untouched now, row 1 touched for the first time):
    //   seen twice: m = 0.9·0.1 + 0.1·3 = 0.39, v = 0.99·0.01 + 0.01·9 = 0.0999,
    //               m̂ = 0.39/(1 - 0.81) = 2.0526316, v̂ = 0.0999/(1 - 0.9801) = 5.0201005,
    //               step = 0.05·2.0526316/(√5.0201005 + 1e-9) = 0.0458063;
    //   row 1 (its first step): m̂ = 3, v̂ = 9, step = 0.05·3/(3 + 1e-9); row 2 stays.
    const second = strategy.aggregateFit(2, first, oneClient(3, [1, 1, 0]), []);
    const s2 = s1 + 0.0458062569;
    const r1 = (0.05 * 3) / (3 + 1e-9);
    close(second.body, [s2, s2, s2, s2, s2, s2, r1, r1, s1, s1, s2, s2], 'round 2');
  });

  it('leaves the model unchanged when nobody reported, without ageing its moments', () => {
    const strategy = new FedAdam();
    const global: Weights = { manifest, body: new Float32Array(SHARED).fill(0.5) };
    const unchanged = strategy.aggregateFit(1, global, new UpdateAccumulator(manifest).sums, []);
    assert.deepEqual(Array.from(unchanged.body), Array.from(global.body));
    // The next real round is still step 1: a full η step in the delta's direction.
    const next = strategy.aggregateFit(2, global, oneClient(-2, [1, 1, 1]), []);
    close(next.body, new Array(SHARED).fill(0.5 - 0.05), 'first real step');
  });

  it('rejects nonsensical hyper-parameters', () => {
    assert.throws(() => new FedAdam({ eta: 0 }), RangeError);
    assert.throws(() => new FedAdam({ beta1: 1 }), RangeError);
    assert.throws(() => new FedAdam({ beta2: -0.1 }), RangeError);
    assert.throws(() => new FedAdam({ tau: 0 }), RangeError);
  });
});
