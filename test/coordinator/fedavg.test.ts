import assert from 'node:assert/strict';
import { FedAvg, FedAvgM, UpdateAccumulator, applyStep, averageDelta, fedAvg, resolveSampleSize, sampleClients, weightedMetricMean } from '@fedrec/coordinator';
import { emptySums, mergeSums, type Weights } from '@fedrec/protocol';
import { ROWS, SHARED, manifest } from './helpers.js';

// Layout of the test manifest's shared body: kernel [0..3], item_emb rows [4,5] [6,7] [8,9] (rowwise), bias [10,11].
const clientA = {
  n: 1,
  delta: Float32Array.from([1, 1, 1, 1, 10, 10, 20, 20, 30, 30, 1, 1]),
  rows: Float32Array.from([1, 0, 2]),
};
const clientB = {
  n: 3,
  delta: Float32Array.from([5, 5, 5, 5, 2, 2, 7, 7, 4, 4, -3, -3]),
  rows: Float32Array.from([3, 0, 0]),
};

function sumsOf(...clients: Array<typeof clientA>) {
  const acc = new UpdateAccumulator(manifest);
  for (const c of clients) acc.add(c.n, c.delta, c.rows);
  return acc.sums;
}

const global: Weights = { manifest, body: new Float32Array(SHARED).fill(0.5) };

describe('coordinator: FedAvg maths', () => {
  it('accumulates Σ weight·Δ, Σ n and Σ w_ir in O(model) arrays', () => {
    const sums = sumsOf(clientA, clientB);
    assert.equal(sums.weightedDeltaSum.length, SHARED);
    assert.equal(sums.rowWeightSums.length, ROWS);
    assert.equal(sums.weightSum, 4);
    assert.equal(sums.contributors, 2);
    // kernel: 1·1 + 3·5; row 0: 1·10 + 3·2; row 1: nobody; row 2: 2·30 + 0·4; bias: 1·1 + 3·(-3)
    assert.deepEqual(Array.from(sums.weightedDeltaSum), [16, 16, 16, 16, 16, 16, 0, 0, 60, 60, -8, -8]);
    assert.deepEqual(Array.from(sums.rowWeightSums), [4, 0, 2]);
  });

  it('a sparse result (touched rows only) sums exactly like its dense equivalent, and partial sums merge', () => {
    // clientA as sparse: kernel and bias in full, item rows 0 and 2 (row 1 untouched).
    const sparse = new UpdateAccumulator(manifest);
    sparse.addSparse({
      numExamples: clientA.n,
      dense: new Map([
        ['dense/kernel', clientA.delta.subarray(0, 4)],
        ['dense/bias', clientA.delta.subarray(10, 12)],
      ]),
      rows: [2, 0],
      rowWeights: [2, 1],
      rowDeltas: new Map([['item_emb', [30, 30, 10, 10]]]),
    });
    const dense = sumsOf({ ...clientA, delta: Float32Array.from([1, 1, 1, 1, 10, 10, 0, 0, 30, 30, 1, 1]) });
    assert.deepEqual(sparse.sums, dense);
    assert.throws(() => sparse.addSparse({ numExamples: 1, dense: new Map(), rows: [], rowWeights: [], rowDeltas: new Map() }), /dense\/kernel/);
    // Merging the per-client sums gives the sums of both.
    const merged = emptySums(manifest);
    mergeSums(merged, sumsOf(clientA));
    mergeSums(merged, sumsOf(clientB));
    assert.deepEqual(merged, sumsOf(clientA, clientB));
  });

  it('averages plain tensors by examples and rowwise tensors per row by row weights', () => {
    const avg = averageDelta(manifest, sumsOf(clientA, clientB));
    assert.deepEqual(Array.from(avg), [4, 4, 4, 4, 4, 4, 0, 0, 30, 30, -2, -2]);
  });

  it('fedAvg in one pass gives applyStep(averageDelta) element for element', () => {
    const sums = sumsOf(clientA, clientB);
    const fused = fedAvg(global, sums, 0.7);
    const twoPass = applyStep(global, averageDelta(manifest, sums), 0.7);
    assert.deepEqual(Array.from(fused.body), Array.from(twoPass.body));
    assert.deepEqual(Array.from(fedAvg(global, emptySums(manifest), 0.7).body), Array.from(global.body));
  });

  it('FedAvg adds the average to the global (server LR 1) and leaves untouched rows alone', () => {
    const next = new FedAvg().aggregateFit(0, global, sumsOf(clientA, clientB), []);
    assert.deepEqual(Array.from(next.body), [4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 0.5, 0.5, 30.5, 30.5, -1.5, -1.5]);
    assert.deepEqual(Array.from(global.body), new Array(SHARED).fill(0.5), 'global must not be mutated');
  });

  it('scales the step by the server learning rate', () => {
    const next = new FedAvg({ serverLearningRate: 2 }).aggregateFit(0, global, sumsOf(clientA, clientB), []);
    assert.deepEqual(Array.from(next.body), [8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 0.5, 0.5, 60.5, 60.5, -3.5, -3.5]);
  });

  it('does not depend on the order results arrive in', () => {
    const ab = averageDelta(manifest, sumsOf(clientA, clientB));
    const ba = averageDelta(manifest, sumsOf(clientB, clientA));
    assert.deepEqual(Array.from(ab), Array.from(ba));
  });

  it('FedAvgM accumulates server momentum across rounds', () => {
    const strategy = new FedAvgM({ momentum: 0.5 });
    const sums = sumsOf(clientA, clientB);
    const first = strategy.aggregateFit(0, global, sums, []);
    assert.deepEqual(Array.from(first.body), [4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 0.5, 0.5, 30.5, 30.5, -1.5, -1.5]);
    const second = strategy.aggregateFit(1, global, sums, []);
    // velocity = 0.5·avg + avg = 1.5·avg
    assert.deepEqual(Array.from(second.body), [6.5, 6.5, 6.5, 6.5, 6.5, 6.5, 0.5, 0.5, 45.5, 45.5, -2.5, -2.5]);
  });

  it('rejects a nonsensical server learning rate or momentum', () => {
    assert.throws(() => new FedAvg({ serverLearningRate: 0 }), RangeError);
    assert.throws(() => new FedAvgM({ momentum: 1 }), RangeError);
  });

  it('aggregates evaluation metrics as an example-weighted mean over the clients that report them', () => {
    const metrics = weightedMetricMean([
      { numExamples: 1, metrics: { loss: 1, hr10: 0 } },
      { numExamples: 3, metrics: { loss: 3 } },
      { numExamples: 0, metrics: { loss: 100 } },
    ]);
    assert.deepEqual(metrics, { loss: 2.5, hr10: 0 });
    assert.deepEqual(new FedAvg().aggregateEvaluate(0, [{ clientId: 'a', numExamples: 2, metrics: { loss: 4 } }], []), { loss: 4 });
  });

  it('samples distinct clients and resolves counts and fractions', () => {
    const clients = ['a', 'b', 'c', 'd', 'e'].map((clientId) => ({ clientId, connectedAt: 0 }));
    const chosen = sampleClients(clients, 3, Math.random);
    assert.equal(new Set(chosen.map((c) => c.clientId)).size, 3);
    assert.equal(sampleClients(clients, 9, Math.random).length, 5);
    assert.equal(resolveSampleSize('all', 5), 5);
    assert.equal(resolveSampleSize(0.5, 5), 3);
    assert.equal(resolveSampleSize(0.01, 5), 1);
    assert.equal(resolveSampleSize(2, 1), 1);
    assert.equal(resolveSampleSize(2, 7), 2);
  });
});
