import assert from 'node:assert/strict';
import { EnvelopeOpener, EnvelopeSealer, encodeUpdatePayload, generateKeyPair, type WeightManifest } from '@fedrec/protocol';
import { UpdateAccumulator } from '../strategy/update-accumulator.js';
import { UpdateShard } from './update-shard.js';

const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [1001], dtype: 'float32', shared: true }] };
const limits = { maxUpdateBytes: 1 << 20, maxExamplesPerUpdate: 1_000 };
const open = { bound: Infinity, rowBound: Infinity, cap: Infinity };

describe('coordinator: update shard (deferred, fused adds)', () => {
  it('adds applied updates at drain or finish, bitwise as one at a time', async () => {
    const key = generateKeyPair();
    const shard = new UpdateShard(new EnvelopeOpener(key.secretKey));
    shard.begin(1, manifest, limits);
    const reference = new UpdateAccumulator(manifest);
    const deltas: Float32Array[] = [];
    // All opened first: opening adds the waiting updates (see the next tests), applying queues them.
    for (let job = 0; job < 7; job++) {
      const delta = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i * (job + 1)) / 3);
      const binding = { roundId: 1, clientId: `c${job}`, taskId: `t${job}`, modelVersion: 0 };
      const envelope = await new EnvelopeSealer(key.publicKey).seal(encodeUpdatePayload({ numExamples: job + 1, metrics: {}, delta }, manifest), binding);
      await shard.open(1, job, envelope, binding);
      deltas.push(delta);
    }
    for (const [job, delta] of deltas.entries()) {
      shard.apply(1, job, open);
      reference.add(job + 1, delta, undefined);
      // Three wait together (one fused pass), then the rest wait until finish.
      if (job === 2) {
        assert.equal(shard.waitingCount, 3);
        shard.drain();
        assert.equal(shard.waitingCount, 0);
      }
    }
    assert.equal(shard.waitingCount, 4);
    const { sums, tally } = shard.finish(1);
    assert.ok(sums);
    assert.deepEqual(tally, { clipped: 0, weightCapped: 0, rowsClipped: 0 });
    const expected = reference.sums;
    assert.equal(sums.contributors, 7);
    assert.equal(sums.weightSum, expected.weightSum);
    assert.deepEqual(Array.from(sums.weightedDeltaSum), Array.from(expected.weightedDeltaSum));
  });

  it("a new round drops the previous round's waiting updates", async () => {
    const key = generateKeyPair();
    const shard = new UpdateShard(new EnvelopeOpener(key.secretKey));
    shard.begin(1, manifest, limits);
    const binding = { roundId: 1, clientId: 'c', taskId: 't', modelVersion: 0 };
    const delta = new Float32Array(1001).fill(1);
    await shard.open(
      1,
      0,
      await new EnvelopeSealer(key.publicKey).seal(encodeUpdatePayload({ numExamples: 2, metrics: {}, delta }, manifest), binding),
      binding,
    );
    shard.apply(1, 0, open);
    shard.begin(2, manifest, limits);
    assert.equal(shard.waitingCount, 0);
    assert.equal(shard.finish(2).sums, undefined);
  });

  it('adds the waiting updates before it opens another envelope (an applied update has left the in-flight bound)', async () => {
    const key = generateKeyPair();
    const shard = new UpdateShard(new EnvelopeOpener(key.secretKey));
    shard.begin(1, manifest, limits);
    const seal = async (job: number) => {
      const binding = { roundId: 1, clientId: `c${job}`, taskId: `t${job}`, modelVersion: 0 };
      const delta = new Float32Array(1001).fill(job + 1);
      return {
        binding,
        envelope: await new EnvelopeSealer(key.publicKey).seal(encodeUpdatePayload({ numExamples: 1, metrics: {}, delta }, manifest), binding),
      };
    };
    const first = await seal(0);
    const second = await seal(1);
    await shard.open(1, 0, first.envelope, first.binding);
    shard.apply(1, 0, open);
    assert.equal(shard.waitingCount, 1);
    await shard.open(1, 1, second.envelope, second.binding);
    assert.equal(shard.waitingCount, 0, 'the applied update was added before the next one was decoded');
    shard.apply(1, 1, open);
    const { sums } = shard.finish(1);
    assert.equal(sums!.contributors, 2);
    assert.deepEqual(new Set(sums!.weightedDeltaSum), new Set([3]));
  });
});
