import assert from 'node:assert/strict';
import {
  EnvelopeSealer,
  encodeEvaluateMetrics,
  encodeUpdatePayload,
  evaluateBinding,
  generateKeyPair,
  ProtocolError,
  sharedSize,
  rowWeightsSize,
  type WeightManifest,
} from '@fedrec/protocol';
import { RoundInput } from '../strategy/round-input.js';
import { FLOAT32_BLOCK } from '../strategy/update-accumulator.js';
import { UpdatePolicy } from '../strategy/update-policy.js';
import { UpdatePool, type OpenedUpdate } from './update-pool.js';

const manifest: WeightManifest = {
  tensors: [
    { name: 'dense', shape: [3, 4], dtype: 'float32', shared: true },
    { name: 'items', shape: [50, 8], dtype: 'float32', shared: true, rowwise: true },
    { name: 'user', shape: [1, 8], dtype: 'float32', shared: false },
  ],
};
const limits = { maxUpdateBytes: 1 << 20, maxExamplesPerUpdate: 1_000 };
const key = generateKeyPair();

/** A seeded generator, so both paths see the very same updates. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

interface Sealed {
  clientId: string;
  binding: { roundId: number; clientId: string; taskId: string; modelVersion: number };
  envelope: Awaited<ReturnType<EnvelopeSealer['seal']>>;
  numExamples: number;
  delta: Float32Array;
  rowWeights: Float32Array;
}

async function sealedUpdates(n: number, round: number, seed = 1, mutate?: (i: number, delta: Float32Array) => void): Promise<Sealed[]> {
  const next = rng(seed);
  const out: Sealed[] = [];
  for (let i = 0; i < n; i++) {
    const delta = Float32Array.from({ length: sharedSize(manifest) }, () => next() * (i % 7 === 0 ? 10 : 1));
    const rowWeights = Float32Array.from({ length: rowWeightsSize(manifest) }, () => (next() > 0.6 ? 1 + Math.floor(Math.abs(next()) * 5) : 0));
    // Untouched rows carry no delta (the sparse encoding leaves them out).
    for (let r = 0; r < 50; r++) if (rowWeights[r] === 0) delta.fill(0, 12 + r * 8, 12 + (r + 1) * 8);
    mutate?.(i, delta);
    const clientId = `c${i}`;
    const binding = { roundId: round, clientId, taskId: `t${i}`, modelVersion: 0 };
    const numExamples = 1 + (i % 13);
    const envelope = await new EnvelopeSealer(key.publicKey).seal(
      encodeUpdatePayload({ numExamples, metrics: { loss: i }, delta, rowWeights }, manifest),
      binding,
    );
    out.push({ clientId, binding, envelope, numExamples, delta, rowWeights });
  }
  return out;
}

const fixedPolicy = () => new UpdatePolicy({ normBound: { mode: 'fixed', value: 8 }, weightCap: { mode: 'fixed', value: 10 }, rowNormBound: 'off' });

describe('coordinator: update pool (worker threads, sharded sums)', function () {
  this.timeout(120_000);
  let pool: UpdatePool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('gives the in-thread sums (up to float32 block rounding) and the same clipping counts', async () => {
    const updates = await sealedUpdates(120, 1);
    const inThread = new RoundInput(manifest, fixedPolicy(), false);
    for (const u of updates) inThread.add(u.clientId, { numExamples: u.numExamples, delta: u.delta, rowWeights: u.rowWeights });
    const expected = inThread.finish();

    pool = new UpdatePool({ size: 2, secretKey: key.secretKey, maxInFlight: 4 });
    pool.beginRound(1, manifest, limits);
    const input = new RoundInput(manifest, fixedPolicy(), false);
    await Promise.all(
      updates.map(async (u) => {
        const o = await pool!.open(u.clientId, u.envelope, u.binding);
        assert.ok(input.canStream());
        pool!.apply(o, input.decide(o.received, o.numExamples, o.rowNorms));
      }),
    );
    // The clipping counts come back with the sums (an apply is not answered).
    const pooled = await pool.finishRound();
    input.tally(pooled.tally);
    const got = input.finish();
    assert.equal(pooled.lost.size, 0);
    assert.equal(pooled.sums.contributors, 120);
    assert.equal(pooled.sums.weightSum, expected.sums.weightSum);
    assert.equal(got.clipped, expected.clipped);
    assert.ok(got.clipped > 0, 'the fixed bound clipped some updates');
    assert.equal(got.weightCapped, expected.weightCapped);
    assert.deepEqual(pooled.sums.rowWeightSums, expected.sums.rowWeightSums);
    // The dense tensor (elements 0-11) is summed in float32 blocks, which shards group differently from the
    // in-thread accumulator: each side is within its stated error (FLOAT32_BLOCK·2⁻²⁴·Σ|n·Δ|,
    // update-accumulator.ts) of the exact sums, so they differ by at most twice that (Σ|n·Δ| of the
    // unclipped updates bounds that of the clipped ones). Rows stay float64: reordering only.
    const DENSE = 12;
    let worstDense = 0;
    for (let i = 0; i < DENSE; i++) {
      let absolute = 0;
      for (const u of updates) absolute += Math.abs(u.numExamples * u.delta[i]!);
      worstDense = Math.max(worstDense, Math.abs(pooled.sums.weightedDeltaSum[i]! - expected.sums.weightedDeltaSum[i]!) / absolute);
    }
    assert.ok(worstDense <= 2 * FLOAT32_BLOCK * 2 ** -24, `dense sums within float32 block rounding (worst ${worstDense} of Σ|n·Δ|)`);
    let worst = 0;
    for (let i = DENSE; i < pooled.sums.weightedDeltaSum.length; i++) {
      const e = expected.sums.weightedDeltaSum[i]!;
      worst = Math.max(worst, Math.abs(pooled.sums.weightedDeltaSum[i]! - e) / Math.max(1, Math.abs(e)));
    }
    assert.ok(worst < 1e-12, `row sums within float64 reordering of the in-thread ones (worst ${worst})`);
  });

  it('never has more updates in flight than its bound (back-pressure), and reaches it under load', async () => {
    const updates = await sealedUpdates(60, 2, 2);
    pool = new UpdatePool({ size: 2, secretKey: key.secretKey, maxInFlight: 3 });
    pool.beginRound(2, manifest, limits);
    const seen: number[] = [];
    await Promise.all(
      updates.map(async (u) => {
        const o = await pool!.open(u.clientId, u.envelope, u.binding);
        seen.push(pool!.gate.inFlight);
        pool!.apply(o, { rowBound: Infinity, bound: Infinity, cap: Infinity });
      }),
    );
    assert.ok(Math.max(...seen) <= 3);
    assert.equal(pool.gate.peak, 3, 'the bound was reached, and never passed');
    assert.equal(pool.gate.inFlight, 0, 'every slot was freed');
    assert.equal((await pool.finishRound()).sums.contributors, 60);
  });

  it('refuses bad updates with the validator codes and keeps them out of the sums', async () => {
    const [good, nan, tampered] = await sealedUpdates(3, 3, 3, (i, d) => {
      if (i === 1) d[0] = Number.NaN;
    });
    tampered!.envelope.ciphertext[10]! ^= 1;
    pool = new UpdatePool({ size: 2, secretKey: key.secretKey });
    pool.beginRound(3, manifest, { ...limits, maxUpdateBytes: nan!.envelope.ciphertext.length - 1 });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'OPENED',
        (e: unknown) => (e instanceof ProtocolError ? e.code : String(e)),
      );
    assert.equal(await code(pool.open(nan!.clientId, nan!.envelope, nan!.binding)), 'TOO_LARGE'); // the size limit refuses before any decryption
    pool.beginRound(4, manifest, limits);
    assert.equal(await code(pool.open(nan!.clientId, nan!.envelope, nan!.binding)), 'NON_FINITE_VALUES');
    assert.equal(await code(pool.open(tampered!.clientId, tampered!.envelope, tampered!.binding)), 'ENVELOPE_REJECTED');
    assert.equal(await code(pool.open(good!.clientId, good!.envelope, { ...good!.binding, taskId: 'other' })), 'ENVELOPE_REJECTED');
    const o = await pool.open(good!.clientId, good!.envelope, good!.binding);
    pool.apply(o, { rowBound: Infinity, bound: Infinity, cap: Infinity });
    const { sums } = await pool.finishRound();
    assert.equal(sums.contributors, 1);
    assert.equal(pool.gate.inFlight, 0);
  });

  it('a crashed worker fails its updates with UPDATE_WORKER_FAILED, names the lost ones, and the pool recovers', async () => {
    const updates = await sealedUpdates(12, 5, 5);
    pool = new UpdatePool({ size: 2, secretKey: key.secretKey, maxInFlight: 12 });
    pool.beginRound(5, manifest, limits);
    const bounds = { rowBound: Infinity, bound: Infinity, cap: Infinity };
    // Some updates applied (posted, not answered), then a crash while others are opened but not yet applied.
    const applied: OpenedUpdate[] = [];
    for (const u of updates.slice(0, 6)) {
      const o = await pool.open(u.clientId, u.envelope, u.binding);
      pool.apply(o, bounds);
      applied.push(o);
    }
    const opened: OpenedUpdate[] = [];
    for (const u of updates.slice(6)) opened.push(await pool.open(u.clientId, u.envelope, u.binding));
    const victim = applied[0]!.worker;
    await pool.crashWorker(victim);
    const outcome = (o: OpenedUpdate) => {
      try {
        pool!.apply(o, bounds);
        return 'OK';
      } catch (e) {
        return e instanceof ProtocolError ? e.code : String(e);
      }
    };
    const outcomes = opened.map(outcome);
    for (const [i, o] of opened.entries()) assert.equal(outcomes[i], o.worker === victim ? 'UPDATE_WORKER_FAILED' : 'OK');
    assert.equal(pool.gate.inFlight, 0, 'failed updates freed their slots');
    const { sums, lost } = await pool.finishRound();
    assert.equal(pool.crashes, 1);
    // The updates applied to the victim before it died are named lost, exactly those; the others are in the sums.
    const lostApplied = applied.filter((o) => o.worker === victim).map((o) => o.clientId);
    assert.ok(lostApplied.length > 0, 'the crash took applied updates with it');
    assert.deepEqual([...lost].sort(), lostApplied.sort());
    const failed = opened.filter((o) => o.worker === victim).length;
    assert.equal(sums.contributors, 12 - lost.size - failed, 'every other update is in the sums: none silently vanished');
    // Recovered: the next round uses both workers again.
    const next = await sealedUpdates(8, 6, 6);
    pool.beginRound(6, manifest, limits);
    for (const u of next) pool.apply(await pool.open(u.clientId, u.envelope, u.binding), bounds);
    const after = await pool.finishRound();
    assert.equal(after.sums.contributors, 8);
    assert.equal(after.lost.size, 0);
  });

  it('take() and apply() of an update whose worker died refuse it with UPDATE_WORKER_FAILED, even after the worker is replaced', async () => {
    const [first, second] = await sealedUpdates(2, 7, 7);
    pool = new UpdatePool({ size: 1, secretKey: key.secretKey });
    pool.beginRound(7, manifest, limits);
    const a = await pool.open(first!.clientId, first!.envelope, first!.binding);
    const b = await pool.open(second!.clientId, second!.envelope, second!.binding);
    await pool.crashWorker(0);
    await assert.rejects(pool.take(a), (e: unknown) => e instanceof ProtocolError && e.code === 'UPDATE_WORKER_FAILED');
    // The next envelope starts a fresh worker; the update the dead one held is still refused, not sent to the new one.
    const [third] = await sealedUpdates(1, 7, 8);
    const c = await pool.open(third!.clientId, third!.envelope, third!.binding);
    assert.throws(
      () => pool!.apply(b, { rowBound: Infinity, bound: Infinity, cap: Infinity }),
      (e: unknown) => e instanceof ProtocolError && e.code === 'UPDATE_WORKER_FAILED',
    );
    pool.apply(c, { rowBound: Infinity, bound: Infinity, cap: Infinity });
    assert.equal(pool.gate.inFlight, 0);
    const { sums, lost } = await pool.finishRound();
    assert.equal(sums.contributors, 1);
    assert.equal(lost.size, 0);
  });

  it('buffered mode: cut() hands over exactly the applies made before it, weighted by their scale; take() returns a dense delta intact', async () => {
    // A dense model: the worker's decoded delta is a view of the plaintext it decrypted (decodeUpdatePayload's adopt).
    const dense: WeightManifest = { tensors: [{ name: 'w', shape: [64], dtype: 'float32', shared: true }] };
    const seal = (i: number, step: number) =>
      new EnvelopeSealer(key.publicKey).seal(encodeUpdatePayload({ numExamples: 2, metrics: {}, delta: new Float32Array(64).fill(step) }, dense), {
        roundId: 1,
        clientId: `d${i}`,
        taskId: `t${i}`,
        modelVersion: 0,
      });
    const binding = (i: number) => ({ roundId: 1, clientId: `d${i}`, taskId: `t${i}`, modelVersion: 0 });
    const none = { bound: Infinity, rowBound: Infinity, cap: Infinity };
    pool = new UpdatePool({ size: 2, secretKey: key.secretKey });
    pool.beginRound(1, dense, limits);
    const opened = await Promise.all([0, 1, 2, 3].map(async (i) => pool!.open(`t${i}`, await seal(i, i + 1), binding(i))));
    // Two applies, then the cut, then one more apply (clipped to norm 1): the cut holds the first two only (the
    // second at half weight), each hand-over with its own tally.
    pool.apply(opened[0]!, none);
    pool.apply(opened[1]!, none, 0.5);
    const first = pool.cut();
    pool.apply(opened[2]!, { ...none, bound: 1 });
    const cut = await first;
    assert.equal(cut.sums.contributors, 2);
    assert.deepEqual(cut.tally, { clipped: 0, weightCapped: 0, rowsClipped: 0 });
    assert.equal(cut.sums.weightSum, 4);
    // Σ n·Δ = 2·1 + 2·(0.5·2) = 4 in every element.
    assert.deepEqual(Array.from(cut.sums.weightedDeltaSum), new Array(64).fill(4));
    const taken = await pool.take(opened[3]!);
    assert.deepEqual(Array.from(taken.delta), new Array(64).fill(4), 'the taken delta arrives intact');
    const rest = await pool.finishRound();
    assert.equal(rest.sums.contributors, 1, 'the apply after the cut is in the next sums');
    assert.deepEqual(rest.tally, { clipped: 1, weightCapped: 0, rowsClipped: 0 });
    // 64 elements of 3 (norm 24) clipped to norm 1, weighted by 2: 2·3/24 = 0.25 each.
    for (const x of rest.sums.weightedDeltaSum) assert.ok(Math.abs(x - 0.25) < 1e-6, `clipped sum ${x}`);
    assert.equal(pool.envelopes, 4);
    assert.equal(pool.gate.inFlight, 0);
  });

  it('opens evaluate results in a worker with no round in progress, refuses altered or oversized ones, and answers again after a crash', async () => {
    pool = new UpdatePool({ size: 2, secretKey: key.secretKey });
    const sealer = new EnvelopeSealer(key.publicKey);
    const task = { roundId: 3, taskId: 'e1', modelVersion: 2 };
    const binding = evaluateBinding(task, 'dev');
    const sealed = (metrics: Record<string, number>) => sealer.seal(encodeEvaluateMetrics({ numExamples: 4, metrics }), binding);
    assert.deepEqual(await pool.openEvaluation(await sealed({ hr10: 0.25 }), binding, 2), { numExamples: 4, metrics: { hr10: 0.25 } });
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => 'OK',
        (e: unknown) => (e instanceof ProtocolError ? e.code : String(e)),
      );
    const altered = await sealed({ hr10: 0.25 });
    altered.ciphertext[0]! ^= 1;
    assert.equal(await refused(pool.openEvaluation(altered, binding, 2)), 'ENVELOPE_REJECTED');
    assert.equal(await refused(pool.openEvaluation(await sealed({ hr10: 0.25 }), { ...binding, taskId: 'e2' }, 2)), 'ENVELOPE_REJECTED');
    assert.equal(await refused(pool.openEvaluation(await sealed({ a: 1, b: 2, c: 3 }), binding, 2)), 'TOO_LARGE');
    assert.equal(pool.evaluations, 4);
    // Both workers die (terminate() settles once the exit is seen); the next result goes to a fresh worker and opens.
    await Promise.all([0, 1].map((i) => pool!.crashWorker(i)));
    assert.equal(pool.crashes, 2);
    assert.deepEqual(await pool.openEvaluation(await sealed({ hr10: 1 }), binding, 2), { numExamples: 4, metrics: { hr10: 1 } });
    assert.equal(pool.gate.inFlight, 0, 'evaluations take no update slot');
  });
});
