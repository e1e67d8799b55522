import assert from 'node:assert/strict';
import { aggregateRound } from '@fedrec/coordinator/strategy/aggregate-round.js';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import { RoundInput } from '@fedrec/coordinator/strategy/round-input.js';
import { UpdatePolicy, l2Norm } from '@fedrec/coordinator/strategy/update-policy.js';
import type { Weights } from '@fedrec/protocol';
import { ROWS, SHARED, manifest } from './helpers.js';

const global: Weights = { manifest, body: new Float32Array(SHARED) };
const off = () => new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' });

/** A seeded honest delta around `centre` (every element), all rows touched. */
function honest(i: number, centre: number): { numExamples: number; delta: Float32Array; rowWeights: Float32Array } {
  const delta = Float32Array.from({ length: SHARED }, (_, k) => centre + 0.01 * Math.sin(7 * i + 3 * k));
  return { numExamples: 10, delta, rowWeights: new Float32Array(ROWS).fill(5) };
}

function roundOf(policy: UpdatePolicy, buffering: boolean, honestCount: number, attackers: Array<(i: number) => ReturnType<typeof honest>>) {
  const input = new RoundInput(manifest, policy, buffering);
  for (let i = 0; i < honestCount; i++) input.add(`h${i}`, honest(i, 0.1));
  attackers.forEach((a, i) => input.add(`a${i}`, a(i)));
  return input.finish();
}

const scaled = (s: number) => (i: number) => {
  const u = honest(100 + i, 0.1);
  return { ...u, delta: u.delta.map((x) => x * s) };
};

describe('robust strategies: f outliers among n updates', () => {
  for (const name of ['median', 'trimmed-mean', 'krum'] as const) {
    for (const scale of [100, -100, 1e6]) {
      it(`${name}: 2 of 10 updates scaled by ${scale} leave the step within the honest range`, async () => {
        const input = roundOf(off(), true, 8, [scaled(scale), scaled(scale)]);
        const next = await aggregateRound(createStrategy(name), 1, global, input, []);
        // Honest deltas are 0.1 ± 0.01 everywhere; so must the step be.
        for (let k = 0; k < SHARED; k++) assert.ok(next.body[k]! > 0.089 && next.body[k]! < 0.111, `${name} element ${k} moved ${next.body[k]}`);
      });
    }
  }

  it('fedavg, given the same round without a norm bound, is dragged away (the attack is real)', async () => {
    const input = roundOf(off(), false, 8, [scaled(100), scaled(100)]);
    const next = await aggregateRound(createStrategy('fedavg'), 1, global, input, []);
    assert.ok(next.body[0]! > 1, `moved ${next.body[0]}`);
  });

  it('a buffering strategy refuses sums alone (what secure aggregation gives)', async () => {
    const input = roundOf(off(), false, 3, []);
    await assert.rejects(Promise.resolve(aggregateRound(createStrategy('median'), 1, global, input, [])), /needs each update/);
  });
});

describe('update policy: norm bound and weight cap while streaming', () => {
  it('the default adaptive bound keeps FedAvg near the honest step when 2 of 10 updates are scaled by 100', async () => {
    const policy = new UpdatePolicy();
    const input = roundOf(policy, false, 8, [scaled(100), scaled(-100)]);
    const next = await aggregateRound(createStrategy('fedavg'), 1, global, input, []);
    assert.equal(input.clipped, 2);
    // Each attacker is clipped to 3 × the median norm, in opposite directions: the mean stays near 0.1.
    for (let k = 0; k < SHARED; k++) assert.ok(Math.abs(next.body[k]! - 0.1) < 0.1, `element ${k} moved ${next.body[k]}`);
  });

  it('holds the first updates of a fresh coordinator until the adaptive bound has seen enough norms, so an early big one is clipped too', () => {
    const policy = new UpdatePolicy();
    const input = new RoundInput(manifest, policy, true);
    input.add('a0', scaled(1000)(0));
    for (let i = 0; i < 3; i++) input.add(`h${i}`, honest(i, 0.1));
    const out = input.finish();
    assert.equal(out.clipped, 1);
    const bound = 3 * l2Norm(honest(0, 0.1).delta);
    assert.ok(l2Norm(out.updates![0]!.delta) <= bound * 1.05, 'the attacker is clipped to about 3 × the median norm');
  });

  it("takes the validator's norm when given (the update is not measured again), in the history and in the bound", () => {
    // A delta of norm 1 handed in with the norm its validator measured: the policy must judge it by that number.
    // (A norm that does not match the delta, 4 here, shows which one was used.)
    const delta = () => new Float32Array(SHARED).fill(1 / Math.sqrt(SHARED));
    const fixed = new RoundInput(manifest, new UpdatePolicy({ normBound: { mode: 'fixed', value: 2 }, weightCap: 'off', rowNormBound: 'off' }), true);
    fixed.add('a', { numExamples: 1, delta: delta(), rowWeights: undefined }, 4);
    fixed.add('b', { numExamples: 1, delta: delta(), rowWeights: undefined });
    const out = fixed.finish();
    assert.equal(out.clipped, 1, 'only the update whose given norm is over the bound');
    assert.ok(Math.abs(l2Norm(out.updates![0]!.delta) - 0.5) < 1e-6, 'scaled by bound / given norm = 1/2');
    assert.ok(Math.abs(l2Norm(out.updates![1]!.delta) - 1) < 1e-6);
    // Warming up: the given norm is what the adaptive history records.
    const adaptive = new UpdatePolicy({ normBound: { mode: 'adaptive', minSamples: 3 }, weightCap: 'off', rowNormBound: 'off' });
    const warming = new RoundInput(manifest, adaptive, false);
    warming.add('c', { numExamples: 1, delta: delta(), rowWeights: undefined }, 4);
    assert.deepEqual(adaptive.state().norms, [4]);
  });

  it('a fixed bound scales an update down to exactly the bound and leaves smaller ones alone', () => {
    const policy = new UpdatePolicy({ normBound: { mode: 'fixed', value: 0.5 }, weightCap: 'off' });
    const big = policy.apply({ numExamples: 1, delta: new Float32Array(SHARED).fill(1), rowWeights: undefined });
    assert.ok(big.clipped && Math.abs(l2Norm(big.delta) - 0.5) < 1e-6);
    const small = policy.apply({ numExamples: 1, delta: new Float32Array(SHARED).fill(0.01), rowWeights: undefined });
    assert.ok(!small.clipped);
  });

  it('caps a claimed example count at 10 × the recent median and scales its row weights with it', () => {
    const policy = new UpdatePolicy();
    for (let i = 0; i < 10; i++) policy.apply(honest(i, 0.1));
    const liar = policy.apply({ numExamples: 1e9, delta: new Float32Array(SHARED).fill(0.1), rowWeights: new Float32Array(ROWS).fill(1e9) });
    assert.ok(liar.weightCapped);
    assert.equal(liar.numExamples, 100);
    assert.deepEqual(Array.from(liar.rowWeights!), [100, 100, 100]);
  });

  it('leaves row weights alone when the weight is not capped (they may count several local epochs)', () => {
    const policy = new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' });
    const u = policy.apply({ numExamples: 4, delta: new Float32Array(SHARED), rowWeights: Float32Array.from([1, 4, 12]) });
    assert.deepEqual(Array.from(u.rowWeights!), [1, 4, 12]);
  });

  it('with the row bound on, bounds each touched item row, so a push on one row is cut down', () => {
    const policy = new UpdatePolicy({ rowNormBound: { mode: 'adaptive' } });
    const input = new RoundInput(manifest, policy, true);
    for (let i = 0; i < 6; i++) input.add(`h${i}`, honest(i, 0.1));
    // Row 2 of item_emb (elements 8, 9) pushed hard; the rest of the update zero, so its total norm is ordinary-ish.
    const push = { numExamples: 10, delta: new Float32Array(SHARED), rowWeights: new Float32Array(ROWS).fill(5) };
    push.delta[8] = 3;
    push.delta[9] = 3;
    input.add('evil', push);
    const out = input.finish();
    assert.ok(out.rowsClipped >= 1);
    const evil = out.updates!.find((u) => u.clientId === 'evil')!;
    const rowNorm = Math.hypot(evil.delta[8]!, evil.delta[9]!);
    assert.ok(rowNorm <= 3 * Math.hypot(0.11, 0.11), `row norm ${rowNorm} is within 3 × an honest row's`);
  });

  it('state survives a save and restore (what the checkpoint keeps)', () => {
    const on = { rowNormBound: { mode: 'adaptive' as const } };
    const a = new UpdatePolicy(on);
    for (let i = 0; i < 7; i++) a.apply(honest(i, 0.1 * (i + 1)), [{ name: 'item_emb', offset: 4, rows: 3, cols: 2, rowWeightOffset: 0 }]);
    const b = new UpdatePolicy(on);
    b.restore(a.state());
    assert.equal(b.currentBound(), a.currentBound());
    assert.equal(b.currentWeightCap(), a.currentWeightCap());
    assert.equal(b.currentRowBound(), a.currentRowBound());
    assert.ok(Number.isFinite(b.currentRowBound()));
    assert.ok(b.ready());
  });
});
