import assert from 'node:assert/strict';
import { FedAdagrad } from '@fedrec/coordinator/strategy/fedadagrad.js';
import { FedAvgM } from '@fedrec/coordinator/strategy/fedavgm.js';
import { FedYogi } from '@fedrec/coordinator/strategy/fedyogi.js';
import { lrFactor, lrFactorOf, parseLrSchedule } from '@fedrec/coordinator/strategy/lr-schedule.js';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import type { WeightManifest, Weights } from '@fedrec/protocol';

// A 3-parameter model worked by hand: one dense shared tensor w = (w0, w1, w2).
const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [3], dtype: 'float32', shared: true }] };
const start: Weights = { manifest, body: new Float32Array(3) };

/** Sums of the given [numExamples, delta] updates, through the coordinator's own accumulator. */
function sums(...updates: Array<[number, number[]]>) {
  const acc = new UpdateAccumulator(manifest);
  for (const [n, d] of updates) acc.add(n, Float32Array.from(d), undefined);
  return acc.sums;
}
// Round 1: two clients, 1 and 3 examples: Δ1 = (1·(0.2, −0.1, 0) + 3·(0.6, 0.3, 0)) / 4 = (0.5, 0.2, 0).
const ROUND1 = () => sums([1, [0.2, -0.1, 0]], [3, [0.6, 0.3, 0]]);
// Round 2: one client: Δ2 = (−0.5, 0.2, 0.1).
const ROUND2 = () => sums([1, [-0.5, 0.2, 0.1]]);

const close = (actual: ArrayLike<number>, expected: number[], what: string) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) < 1e-6, `${what}[${i}]: ${actual[i]} vs ${e}`));

describe('coordinator: FedYogi, FedAdagrad and FedAvgM schedules against hand-computed steps (3 parameters)', () => {
  it('FedYogi (η 0.05, β1 0.9, β2 0.99, τ 1e-3): v moves by (1−β2)Δ²·sign(v − Δ²), no bias correction', () => {
    const s = new FedYogi({ eta: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    // Round 1: m = 0.1·Δ1 = (0.05, 0.02, 0); Δ1² = (0.25, 0.04, 0); v = 0 − 0.01·Δ1²·sign(0 − Δ1²) = (0.0025, 0.0004, 0)
    //   step = 0.05·m/(√v + 0.001) = (0.0025/0.051, 0.001/0.021, 0) = (0.0490196, 0.0476190, 0).
    const x1 = s.aggregateFit(0, start, ROUND1(), []);
    close(x1.body, [0.0490196, 0.047619, 0], 'round 1');
    // Round 2: m = 0.9·m + 0.1·Δ2 = (−0.005, 0.038, 0.01); Δ2² = (0.25, 0.04, 0.01) > v everywhere, so
    //   v = v + 0.01·Δ2² = (0.005, 0.0008, 0.0001); step = 0.05·m/(√v + 0.001)
    //   = (−0.00025/0.0717107, 0.0019/0.0292843, 0.0005/0.011) = (−0.0034862, 0.0648812, 0.0454545).
    const x2 = s.aggregateFit(1, x1, ROUND2(), []);
    close(x2.body, [0.0490196 - 0.0034862, 0.047619 + 0.0648812, 0.0454545], 'round 2');
  });

  it('FedAdagrad (η 0.1, β1 0, τ 1e-9): v is the running sum of Δ², no bias correction', () => {
    const s = new FedAdagrad({ eta: 0.1, beta1: 0, tau: 1e-9 });
    // Round 1: m = Δ1, v = Δ1² = (0.25, 0.04, 0): step = 0.1·Δ1/(|Δ1| + 1e-9) = (0.1, 0.1, 0).
    const x1 = s.aggregateFit(0, start, ROUND1(), []);
    close(x1.body, [0.1, 0.1, 0], 'round 1');
    // Round 2: v = (0.25 + 0.25, 0.04 + 0.04, 0 + 0.01) = (0.5, 0.08, 0.01):
    //   step = 0.1·(−0.5/0.7071068, 0.2/0.2828427, 0.1/0.1) = (−0.0707107, 0.0707107, 0.1).
    const x2 = s.aggregateFit(1, x1, ROUND2(), []);
    close(x2.body, [0.1 - 0.0707107, 0.1 + 0.0707107, 0.1], 'round 2');
  });

  it('FedAvgM (momentum 0.5) with a step schedule halving the server rate every round', () => {
    const s = new FedAvgM({ momentum: 0.5, serverLearningRate: 1, serverLrFactor: lrFactorOf('step:1:0.5') });
    // Round id 0: factor 1; velocity = Δ1 = (0.5, 0.2, 0) → x = (0.5, 0.2, 0).
    const x1 = s.aggregateFit(0, start, ROUND1(), []);
    close(x1.body, [0.5, 0.2, 0], 'round 1');
    // Round id 1: factor 0.5; velocity = 0.5·(0.5, 0.2, 0) + (−0.5, 0.2, 0.1) = (−0.25, 0.3, 0.1) → x += 0.5·velocity.
    const x2 = s.aggregateFit(1, x1, ROUND2(), []);
    close(x2.body, [0.375, 0.35, 0.05], 'round 2');
  });

  it('the registry builds them with schedules and rejects bad schedule specs', () => {
    const s = createStrategy('fedyogi', { eta: 0.05, serverLrSchedule: 'step:1:0.5' });
    const x1 = s.aggregateFit(0, start, ROUND1(), []) as Weights;
    // Same first step as above; the second round's step is halved by the schedule.
    const plain = new FedYogi({ eta: 0.05 });
    const p1 = plain.aggregateFit(0, start, ROUND1(), []);
    const x2 = s.aggregateFit(1, x1, ROUND2(), []) as Weights;
    const p2 = plain.aggregateFit(1, p1, ROUND2(), []);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(x2.body[i]! - x1.body[i]! - 0.5 * (p2.body[i]! - p1.body[i]!)) < 1e-7);
    assert.throws(() => createStrategy('fedavgm', { serverLrSchedule: 'step:0:0.5' }), /EVERY/);
    assert.throws(() => createStrategy('fedadagrad', { serverLrSchedule: 'warmup:3' }), /unknown kind/);
    assert.throws(() => createStrategy('fedadagrad', { beta2: 0.9 }), /strategy fedadagrad/);
  });
});

describe('learning-rate schedules', () => {
  it('computes constant, step, exponential and cosine multipliers', () => {
    assert.equal(lrFactor(parseLrSchedule('constant'), 7), 1);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((t) => lrFactor(parseLrSchedule('step:2:0.5'), t)),
      [1, 1, 0.5, 0.5, 0.25],
    );
    assert.deepEqual(
      [0, 1, 2].map((t) => lrFactor(parseLrSchedule('exponential:0.5'), t)),
      [1, 0.5, 0.25],
    );
    // cosine over 4 rounds down to 0.5: 0.5 + 0.5·(1 + cos(π·t/4))/2 for t = 0..4, then the floor.
    const cos = [0, 1, 2, 3, 4, 5].map((t) => lrFactor(parseLrSchedule('cosine:4:0.5'), t));
    close(cos, [1, 0.9267767, 0.75, 0.5732233, 0.5, 0.5], 'cosine');
    close([lrFactor(parseLrSchedule('cosine:2'), 1)], [0.5], 'cosine to 0');
  });

  it('rejects malformed specs with a readable reason', () => {
    for (const bad of ['', 'linear', 'step:2', 'step:2:1.5', 'exponential:0', 'cosine', 'cosine:10:2', 'constant:1', 'step:a:0.5'])
      assert.throws(() => parseLrSchedule(bad), RangeError, bad);
  });
});
