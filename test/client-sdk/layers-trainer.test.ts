import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_TRAINING_CONFIG, decodeUpdatePayload, open, sealedEnvelopeSchema, sharedSize, type ModelSpec, type Weights } from '@fedrec/protocol';
import { logisticModel } from '@fedrec/models/logistic.js';
import { LOGISTIC_TENSORS } from '@fedrec/models/logistic-spec.js';
import { SeededRandom } from '@fedrec/models/random.js';
import {
  FederatedClient,
  LayersTrainer,
  MemoryStore,
  logisticEventsDataset,
  privateTensorKey,
  selectBackend,
  type DatasetFn,
  type TaskContext,
} from '@fedrec/client-sdk/node/index.js';
import { makeFitTask, sendFit, startFakeCoordinator } from './helpers/fake-coordinator.js';

const FEATURES = 8;
const spec: ModelSpec = { name: 'logistic', options: { features: FEATURES } };

/** A seeded, separable-ish logistic problem: y ~ Bernoulli(sigmoid(x · w* + 0.5)). */
function syntheticProblem(seed: number, n: number): { xs: Float32Array; ys: Float32Array } {
  const rng = new SeededRandom(seed);
  const wTrue = Array.from({ length: FEATURES }, (_, i) => (i % 2 === 0 ? 2 : -1.5));
  const xs = new Float32Array(n * FEATURES);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0.5;
    for (let j = 0; j < FEATURES; j++) {
      const x = rng.normal();
      xs[i * FEATURES + j] = x;
      z += x * wTrue[j]!;
    }
    ys[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { xs, ys };
}

function datasetOf(problem: { xs: Float32Array; ys: Float32Array }): DatasetFn {
  return async () => ({
    xs: tf.tensor2d(problem.xs, [problem.ys.length, FEATURES]),
    ys: tf.tensor2d(problem.ys, [problem.ys.length, 1]),
  });
}

function context(global: Weights, roundId: number): TaskContext {
  return { roundId, modelVersion: roundId, modelSpec: spec, global, config: { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.5, batchSize: 32, localEpochs: 2 } };
}

function applyDelta(global: Weights, delta: Float32Array): Weights {
  return { manifest: global.manifest, body: global.body.map((v, i) => v + delta[i]!) };
}

describe('LayersTrainer (logistic on wasm)', function () {
  before(async () => {
    assert.equal(await selectBackend(), 'wasm');
  });

  it('learns a synthetic logistic problem round after round, without leaking tensors', async () => {
    const store = new MemoryStore();
    const trainer = new LayersTrainer({ store, dataset: datasetOf(syntheticProblem(7, 256)) });
    let global = logisticModel.initialWeights(spec.options, 1);
    const before = await trainer.evaluate(context(global, 0));
    const losses: number[] = [];
    let tensorsAfterFirstFit = 0;
    for (let round = 1; round <= 5; round++) {
      const outcome = await trainer.fit(context(global, round));
      assert.equal(outcome.delta.length, sharedSize(global.manifest));
      assert.equal(outcome.numExamples, 256);
      assert.equal(outcome.rowWeights, undefined);
      losses.push(outcome.metrics['loss']!);
      global = applyDelta(global, outcome.delta);
      if (round === 1) tensorsAfterFirstFit = tf.memory().numTensors;
      else assert.equal(tf.memory().numTensors, tensorsAfterFirstFit, `tensors grew in round ${round}`);
    }
    const after = await trainer.evaluate(context(global, 6));
    assert.equal(tf.memory().numTensors, tensorsAfterFirstFit);
    assert.ok(losses[4]! < losses[0]! * 0.9, `fit loss went ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
    assert.ok(after.metrics['loss']! < before.metrics['loss']! - 0.1, `eval loss ${before.metrics['loss']} → ${after.metrics['loss']}`);
    assert.ok(after.metrics['acc']! > 0.75, `accuracy ${after.metrics['acc']}`);
    assert.equal(after.numExamples, 256);
    trainer.dispose();
  });

  it('keeps the private user bias on the device: stored between rounds, never in the delta', async () => {
    const store = new MemoryStore();
    const key = privateTensorKey('logistic', LOGISTIC_TENSORS.userBias);
    await store.set(key, Float32Array.from([0.7]));
    const trainer = new LayersTrainer({ store, dataset: datasetOf(syntheticProblem(3, 64)) });
    const global = logisticModel.initialWeights(spec.options, 2);
    const outcome = await trainer.fit(context(global, 1));
    const stored = (await store.get(key)) as Float32Array;
    assert.ok(stored instanceof Float32Array && stored.length === 1);
    assert.notEqual(stored[0], Math.fround(0.7), 'the private bias trained from its stored value');
    assert.equal(outcome.delta.length, FEATURES + 1);
    assert.ok(!outcome.delta.includes(stored[0]!));

    // A second round starts from the stored value, not from zero.
    await store.set(key, Float32Array.from([5]));
    const evalHigh = await trainer.evaluate(context(global, 2));
    await store.set(key, Float32Array.from([-5]));
    const evalLow = await trainer.evaluate(context(global, 2));
    assert.notEqual(evalHigh.metrics['loss'], evalLow.metrics['loss']);
    trainer.dispose();
  });

  it('refuses a coordinator manifest that marks the private tensor as shared', async () => {
    const trainer = new LayersTrainer({ store: new MemoryStore(), dataset: datasetOf(syntheticProblem(4, 16)) });
    const honest = logisticModel.initialWeights(spec.options, 3);
    const greedyManifest = { tensors: honest.manifest.tensors.map((t) => ({ ...t, shared: true })) };
    const greedy: Weights = { manifest: greedyManifest, body: new Float32Array(sharedSize(greedyManifest)) };
    await assert.rejects(trainer.fit(context(greedy, 1)), /private on this device|shared tensors/);
    trainer.dispose();
  });

  it('returns a zero delta with zero examples when there is nothing to learn from', async () => {
    const trainer = new LayersTrainer({ store: new MemoryStore(), dataset: logisticEventsDataset });
    const global = logisticModel.initialWeights(spec.options, 4);
    const outcome = await trainer.fit(context(global, 1));
    assert.equal(outcome.numExamples, 0);
    assert.ok(outcome.delta.every((v) => v === 0));
    trainer.dispose();
  });

  it('trains from recorded behaviour events through a FederatedClient, sending only the shared delta', async () => {
    const server = await startFakeCoordinator();
    const store = new MemoryStore();
    const trainer = new LayersTrainer({ store, dataset: logisticEventsDataset });
    const client = new FederatedClient({ url: server.url, trainer, store });
    // From zero, the user bias and the shared bias get identical gradients and equal values: start apart.
    await store.set(privateTensorKey('logistic', LOGISTIC_TENSORS.userBias), Float32Array.from([0.25]));
    try {
      for (let i = 0; i < 40; i++) await client.record({ itemId: `item-${i % 5}`, kind: i % 5 < 2 ? 'click' : 'view', timestamp: 1000 + i });
      const socketP = server.nextSocket();
      await client.connect();
      const global = logisticModel.initialWeights(spec.options, 5);
      const task = makeFitTask({ weights: global, modelSpec: spec, roundId: 1, config: { learningRate: 0.5, localEpochs: 3, batchSize: 8 } });
      const reply = await sendFit(await socketP, task);
      assert.ok(reply.ok, JSON.stringify(reply));
      const envelope = sealedEnvelopeSchema.parse(reply.value.envelope);
      const plaintext = await open(envelope, { roundId: 1, clientId: client.clientId!, taskId: task.taskId, modelVersion: 0 }, server.keys.secretKey);
      const payload = decodeUpdatePayload(plaintext, global.manifest);
      assert.equal(
        global.manifest.tensors.some((t) => !t.shared),
        true,
      );
      assert.equal(payload.delta.length, sharedSize(global.manifest));
      assert.equal(payload.numExamples, 40);
      assert.ok(payload.delta.some((v) => v !== 0));

      const privateBias = ((await store.get(privateTensorKey('logistic', LOGISTIC_TENSORS.userBias))) as Float32Array)[0]!;
      assert.notEqual(privateBias, Math.fround(0.25), 'the private bias trained');
      assert.ok(!payload.delta.includes(privateBias));
      const needle = new Uint8Array(Float32Array.of(privateBias).buffer);
      const found = plaintext.some((_, i) => needle.every((b, j) => plaintext[i + j] === b));
      assert.equal(found, false, 'the private bias bytes are nowhere in the sealed plaintext');
    } finally {
      await client.close();
      await server.close();
      trainer.dispose();
    }
  });
});
