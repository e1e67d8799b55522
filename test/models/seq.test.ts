import assert from 'node:assert/strict';
import { splitShared, type ModelSpec, type TrainingConfig } from '@fedrec/protocol';
import { RecsysTrainer, memoryPrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry, getModel } from '@fedrec/models/registry.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { S, seqArch } from '@fedrec/models/seq/arch.js';
import { planSequenceTraining } from '@fedrec/models/seq/plan.js';
import { SEQ_DEFAULTS, seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { withSequences } from '@fedrec/recsys/data/sequences.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import type { InteractionDataset } from '@fedrec/recsys/data/types.js';
import { enginesAgreeContract, maxAbsDiff, type EngineFixtureFactory } from './engine.contract.js';
import { seededUser } from './engine-fixtures.js';

describe('seq model: sequence plans', () => {
  it('each example carries the L items before its position, most recent first, as local rows', () => {
    const sequence = [10, 20, 30, 40];
    const plan = planSequenceTraining(sequence, 100, { epochs: 1, negatives: 2, seed: 1, seqLen: 2 });
    const { rows, labels, contexts } = plan.epochs[0]!;
    assert.equal(rows.length, 4 * 3, 'one positive and two negatives per position');
    const item = (r: number) => (r < 0 ? -1 : plan.localItems[r]!);
    for (let k = 0; k < rows.length; k++) {
      const ctx = [item(contexts[2 * k]!), item(contexts[2 * k + 1]!)];
      if (labels[k] === 1) {
        const t = sequence.indexOf(item(rows[k]!));
        assert.deepEqual(ctx, [sequence[t - 1] ?? -1, sequence[t - 2] ?? -1], `context of position ${t}`);
      } else assert.ok(!sequence.includes(item(rows[k]!)), 'negatives are never items of the history');
    }
    // Row weights count every use, as a target or in a context.
    const uses = new Map<number, number>();
    for (let k = 0; k < rows.length; k++) for (const r of [rows[k]!, contexts[2 * k]!, contexts[2 * k + 1]!]) if (r >= 0) uses.set(r, (uses.get(r) ?? 0) + 1);
    plan.localItems.forEach((_, r) => assert.equal(plan.rowCounts[r], uses.get(r)));
    // The long-term term's inputs: the sequence as local rows, and each example's position (its positive's index).
    assert.deepEqual(Array.from(plan.sequence, item), sequence);
    for (let k = 0; k < rows.length; k++) if (labels[k] === 1) assert.equal(sequence[plan.epochs[0]!.positions[k]!], item(rows[k]!));
  });

  it('withSequences orders each user’s training history by time and leaves out the held-out item', () => {
    const data: InteractionDataset = {
      users: Int32Array.from([0, 0, 0, 0, 1, 1]),
      items: Int32Array.from([5, 3, 9, 7, 1, 2]),
      ratings: new Float32Array(6).fill(1),
      timestamps: Float64Array.from([30, 10, 40, 20, 2, 1]),
      numUsers: 2,
      numItems: 120,
      userIds: ['a', 'b'],
      itemIds: [],
      summary: { lines: 6, kept: 6, malformed: 0, duplicates: 0, users: 2, items: 6 },
    };
    const users = withSequences(data, leaveOneOut(data, { seed: 1 }).users);
    assert.deepEqual(Array.from(users[0]!.trainSequence), [3, 7, 5], 'user 0: by time, latest (9) held out');
    assert.equal(users[0]!.testItem, 9);
    assert.deepEqual(Array.from(users[1]!.trainSequence), [2]);
  });
});

describe('seq model: the device state is its recent sequence', () => {
  const numItems = 300;
  const spec: ModelSpec = { name: 'seq', options: seqModelOptions(numItems) };
  const global = getModel('seq').initialWeights(spec.options, 3);

  it('a new event changes the next recommendations at once, with no re-fit', async () => {
    const data = seededUser({ seed: 2, user: 1, numItems, liked: 20 });
    const history = data.trainItems;
    const before = new RecsysTrainer({ data, sequence: history, engine: 'js' });
    before.setGlobal(spec, global);
    const after = new RecsysTrainer({ data, sequence: Int32Array.from([...history, data.testItem]), engine: 'js' });
    after.setGlobal(spec, global);
    const exclude = [...history, data.testItem];
    const a = (await before.recommend(10, exclude)).map((r) => r.item);
    const b = (await after.recommend(10, exclude)).map((r) => r.item);
    assert.notDeepEqual(a, b, 'the latest event moved the ranking');
  });

  it('only the last seqLen items matter: older history does not change the scores', async () => {
    const data = seededUser({ seed: 3, user: 2, numItems, liked: 30 });
    const L = SEQ_DEFAULTS.seqLen;
    const long = new RecsysTrainer({ data, sequence: data.trainItems, engine: 'js' });
    const short = new RecsysTrainer({ data, sequence: data.trainItems.slice(-L), engine: 'js' });
    long.setGlobal(spec, global);
    short.setGlobal(spec, global);
    assert.equal(maxAbsDiff(await long.scoreAll(), await short.scoreAll()), 0);
  });

  for (const tied of [false, true]) {
    it(`JS gradients match finite differences of the loss${tied ? ' (tied item table)' : ''}`, async () => {
      await checkFiniteDifferences(tied, false);
    });
  }
  for (const tied of [false, true]) {
    it(`with attention pooling, JS gradients (A, the position embeddings, the context rows through the softmax) match finite differences${tied ? ' (tied)' : ''}`, async () => {
      await checkFiniteDifferences(tied, false, true);
    });
  }
  for (const tied of [false, true]) {
    it(`with the long-term term, JS gradients (long_w, the history rows through the windowed running sums) match finite differences${tied ? ' (tied)' : ''}`, async () => {
      await checkFiniteDifferences(tied, true);
    });
  }

  it('a tied model has no item_out tensor and scores candidates with item_in', async () => {
    const options = { numItems: 30, factors: 4, seqLen: 3, initStd: 0.5, tied: true };
    const w = getModel('seq').initialWeights(options, 6);
    assert.deepEqual(
      w.manifest.tensors.map((t) => t.name),
      [S.recent, S.itemIn, S.itemBias, S.pos, S.headW, S.headB],
    );
    const engine = await defaultModelRegistry.engine('seq', 'js').load();
    if (engine.kind !== 'recommender' || !engine.privateFromHistory) throw new Error('seq js is a sequence recommender engine');
    const shared = splitShared(w.manifest, w.body);
    const priv = engine.privateFromHistory(options, Int32Array.from([3]));
    const before = await engine.score(options, shared, priv, Int32Array.from([7]));
    // Item 3 is the whole context (pos 1, identity head): its logit against item 7 is in[3] · in[7].
    const inRows = shared.get(S.itemIn)!;
    let dot = 0;
    for (let k = 0; k < 4; k++) dot += inRows[3 * 4 + k]! * inRows[7 * 4 + k]!;
    assert.ok(Math.abs(before[0]! - dot) < 1e-6, `logit ${before[0]} against in[3]·in[7] ${dot}`);
    assert.throws(() => seqArch({ ...options, tied: 'yes' }), /tied/);
    assert.throws(() => seqArch({ ...options, longTerm: 'yes' }), /longTerm/);
    assert.throws(() => seqArch({ ...options, longTerm: true, historyLen: 0 }), /historyLen/);
  });
});

async function checkFiniteDifferences(tied: boolean, longTerm: boolean, attention = false): Promise<void> {
  {
    const engine = await defaultModelRegistry.engine('seq', 'js').load();
    if (engine.kind !== 'recommender' || !engine.planFit || !engine.privateFromHistory) throw new Error('seq js is a sequence recommender engine');
    // historyLen 3 < the 7 positions, so the window slides: item 4 (position 0) feeds positions 1-3 only.
    const options = {
      numItems: 40,
      factors: 3,
      seqLen: 2,
      initStd: 0.5,
      tied,
      ...(longTerm ? { longTerm, historyLen: 3 } : {}),
      ...(attention ? { attention } : {}),
    };
    const start = getModel('seq').initialWeights(options, 4);
    const shared = splitShared(start.manifest, start.body);
    // Non-trivial head and positions so every path carries gradient.
    shared.get(S.headW)!.set([0.2, -0.1, 0.3, 0.05, 0.1, -0.2, 0.15, 0.25, -0.3]);
    shared.get(S.pos)!.set([0.9, 0.6]);
    if (longTerm) shared.get(S.longW)!.set([0.7]);
    // Small, non-symmetric A and non-zero P (the init's A = I/initStd² would saturate the softmax at this width).
    if (attention) {
      shared.get(S.attnQ)!.set([0.8, -0.4, 0.3, 0.5, 0.6, -0.7, -0.2, 0.9, 0.4]);
      shared.get(S.attnPos)!.set([0.3, -0.2, 0.1, -0.4, 0.25, 0.5]);
    }
    const history = Int32Array.from([4, 9, 2, 17, 33, 21, 8]);
    const plan = engine.planFit(options, history, { epochs: 1, negatives: 2, seed: 5 });
    const priv = engine.privateFromHistory(options, history);
    const batch = plan.examplesPerEpoch;
    const lr = 1e-3;
    const fit = await engine.fit(options, shared, priv, plan, { learningRate: lr, batchSize: batch });
    // One full-batch SGD step: delta = -lr · dLoss/dθ, loss = mean BCE over the batch.
    const lossAt = async (name: string, at: number, eps: number) => {
      const moved = new Map([...shared].map(([k, v]) => [k, v.slice()]));
      moved.get(name)![at]! += eps;
      const f = await engine.fit(options, moved, priv, plan, { learningRate: 0, batchSize: batch });
      return f.loss;
    };
    const a = seqArch(options);
    const checks: Array<[string, number, number]> = [
      [S.pos, 1, fit.denseDeltas.get(S.pos)![1]!],
      [S.headW, 4, fit.denseDeltas.get(S.headW)![4]!],
      [S.headB, 2, fit.denseDeltas.get(S.headB)![2]!],
      ...(longTerm ? ([[S.longW, 0, fit.denseDeltas.get(S.longW)![0]!]] as Array<[string, number, number]>) : []),
      ...(attention
        ? ([
            [S.attnQ, 1, fit.denseDeltas.get(S.attnQ)![1]!],
            [S.attnQ, 6, fit.denseDeltas.get(S.attnQ)![6]!],
            [S.attnPos, 0, fit.denseDeltas.get(S.attnPos)![0]!],
            [S.attnPos, 4, fit.denseDeltas.get(S.attnPos)![4]!],
          ] as Array<[string, number, number]>)
        : []),
    ];
    // Tied: item 9 is both a target and in contexts, so item_in's delta carries both uses. Item 4 (the
    // first position) is in no context beyond position 2, and in the long-term windows of positions 1-3.
    for (const table of tied ? [S.itemIn, S.itemBias] : [S.itemIn, S.itemOut, S.itemBias]) {
      const width = table === S.itemBias ? 1 : a.dim;
      const local = plan.localItems.indexOf(9);
      checks.push([table, 9 * width, fit.itemDeltas.get(table)![local * width]!]);
    }
    const first = plan.localItems.indexOf(4);
    for (let k = 0; k < a.dim; k++) checks.push([S.itemIn, 4 * a.dim + k, fit.itemDeltas.get(S.itemIn)![first * a.dim + k]!]);
    for (const [name, at, delta] of checks) {
      const eps = 1e-2;
      const numeric = ((await lossAt(name, at, eps)) - (await lossAt(name, at, -eps))) / (2 * eps);
      assert.ok(Math.abs(-delta / lr - numeric) < 2e-3, `${name}[${at}]: analytic ${(-delta / lr).toFixed(5)} vs numeric ${numeric.toFixed(5)}`);
    }
  }
}

/**
 * At ML-100K size: 1,682 items, the default seq model, a 106-event history, 4 negatives each, one epoch
 * (the long-term term, when asked, over the last 50 items, so the window slides).
 */
function realisticSeqFixture(engine: string, batchSize: number, tied = false, longTerm = false, attention = false): EngineFixtureFactory {
  const numItems = 1682;
  const spec: ModelSpec = { name: 'seq', options: seqModelOptions(numItems, { tied, attention, ...(longTerm ? { longTerm, historyLen: 50 } : {}) }) };
  const config: TrainingConfig = { localEpochs: 1, batchSize, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 4 } };
  const data = seededUser({ seed: 5, user: 11, numItems, liked: 107 });
  const global = getModel('seq').initialWeights(spec.options, 9);
  return async (seed) => {
    const store = memoryPrivateStore();
    const trainer = new RecsysTrainer({ data, sequence: data.trainItems, store, engine, seed });
    return {
      trainer,
      task: (roundId) => ({ roundId, modelVersion: roundId, config, modelSpec: spec, global }),
      privateTensors: async () => new Map([...store.entries].map(([key, v]) => [key.slice('seq/'.length), v])),
      untouched: [],
      dispose: () => undefined,
    };
  };
}

describe('seq engines agree at ML-100K size (SGD, batch 4 and 64)', function () {
  this.timeout(120_000);
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });
  for (const batch of [4, 64]) {
    enginesAgreeContract(
      `seq sgd batch ${batch}`,
      ['js', 'tfjs'].map((engine) => [engine, realisticSeqFixture(engine, batch)]),
      1e-5,
    );
  }
  enginesAgreeContract(
    'seq sgd batch 4, tied item table',
    ['js', 'tfjs'].map((engine) => [engine, realisticSeqFixture(engine, 4, true)]),
    1e-5,
  );
  for (const batch of [4, 64]) {
    enginesAgreeContract(
      `seq sgd batch ${batch}, tied, long-term term`,
      ['js', 'tfjs'].map((engine) => [engine, realisticSeqFixture(engine, batch, true, true)]),
      1e-5,
    );
  }

  for (const batch of [4, 64]) {
    enginesAgreeContract(
      `seq sgd batch ${batch}, tied, attention pooling`,
      ['js', 'tfjs'].map((engine) => [engine, realisticSeqFixture(engine, batch, true, false, true)]),
      1e-5,
    );
  }

  it('with attention pooling, both engines score the same from trained weights, and the pooling moves the scores', async () => {
    const numItems = 1682;
    const options = seqModelOptions(numItems, { tied: true, attention: true });
    const w = getModel('seq').initialWeights(options, 9);
    const shared = splitShared(w.manifest, w.body);
    // Trained-looking attention weights (at the init, A is diagonal and P zero).
    const rng = new SeededRandom(8);
    for (const [name, std] of [
      [S.attnQ, 2],
      [S.attnPos, 0.1],
    ] as const)
      shared.get(name)!.set(shared.get(name)!.map(() => rng.normal() * std));
    const history = seededUser({ seed: 6, user: 3, numItems, liked: 40 }).trainItems;
    const items = Int32Array.from({ length: numItems }, (_, i) => i);
    const scores = async (engineName: string, opts: ModelSpec['options'], h: Int32Array) => {
      const engine = await defaultModelRegistry.engine('seq', engineName).load();
      if (engine.kind !== 'recommender' || !engine.privateFromHistory) throw new Error('seq is a sequence recommender engine');
      return engine.score(opts, shared, engine.privateFromHistory(opts, h), items);
    };
    const js = await scores('js', options, history);
    assert.ok(maxAbsDiff(await scores('tfjs', options, history), js) < 1e-5, 'tfjs scores as js');
    // A short history (empty slots) too: the pooling reads the filled slots only.
    const short = history.slice(-3);
    assert.ok(maxAbsDiff(await scores('tfjs', options, short), await scores('js', options, short)) < 1e-5, 'tfjs scores as js on a short history');
    assert.ok(maxAbsDiff(await scores('js', { ...options, attention: false }, history), js) > 1e-3, 'the pooling moves the scores');
  });

  it('with the long-term term, both engines score the same, and history older than seqLen but within historyLen moves the scores', async () => {
    const numItems = 1682;
    const options = seqModelOptions(numItems, { tied: true, longTerm: true, historyLen: 50 });
    const w = getModel('seq').initialWeights(options, 9);
    const shared = splitShared(w.manifest, w.body);
    const history = seededUser({ seed: 6, user: 3, numItems, liked: 120 }).trainItems;
    const items = Int32Array.from({ length: numItems }, (_, i) => i);
    const scores = async (engineName: string, h: Int32Array) => {
      const engine = await defaultModelRegistry.engine('seq', engineName).load();
      if (engine.kind !== 'recommender' || !engine.privateFromHistory) throw new Error('seq is a sequence recommender engine');
      return engine.score(options, shared, engine.privateFromHistory(options, h), items);
    };
    const js = await scores('js', history);
    assert.ok(maxAbsDiff(await scores('tfjs', history), js) < 1e-5, 'tfjs scores as js');
    const L = SEQ_DEFAULTS.seqLen;
    assert.ok(maxAbsDiff(await scores('js', history.slice(-L)), js) > 1e-3, 'items before the last seqLen count');
    assert.equal(maxAbsDiff(await scores('js', history.slice(-50)), js), 0, 'items before the last historyLen do not');
  });
});
