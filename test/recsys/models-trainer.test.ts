import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { getModel } from '@fedrec/models/registry.js';
import { DEFAULT_TRAINING_CONFIG, rowWeightsSize, sharedLayout, sharedSize, splitShared, manifestSchema, type TrainingConfig } from '@fedrec/protocol';
import type { TaskContext } from '@fedrec/client-sdk/trainer.js';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { scoreItemsJs } from '@fedrec/models/ncf/engine/score.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { fitLocalTf, scoreTf } from '@fedrec/models/ncf/tfjs/local-fit.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { RecsysTrainer, memoryPrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';

const KINDS: NcfKind[] = ['mf', 'gmf', 'mlp', 'neumf'];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

describe('recsys models', () => {
  for (const kind of KINDS) {
    it(`${kind}: user embeddings are private, item tables shared and rowwise, init reproducible`, () => {
      const def = getModel(kind);
      const options = { numItems: 50, factors: 4 };
      const manifest = manifestSchema.parse(def.manifest(options));
      for (const t of manifest.tensors) {
        if (t.name.startsWith('user_')) assert.equal(t.shared, false, `${t.name} must stay on the device`);
        else assert.equal(t.shared, true, `${t.name} is shared`);
        assert.equal(!!t.rowwise, t.name.startsWith('item_'), `${t.name} rowwise flag`);
      }
      assert.ok(manifest.tensors.some((t) => !t.shared));
      const w1 = def.initialWeights(options, 3);
      const w2 = def.initialWeights(options, 3);
      const w3 = def.initialWeights(options, 4);
      assert.equal(w1.body.length, sharedSize(manifest));
      assert.deepEqual(w1.body, w2.body);
      assert.notDeepEqual(w1.body, w3.body);
    });
  }

  it('reads factor size and MLP layers from options', () => {
    const a = ncfArch('neumf', { numItems: 10, factors: 8, mlpDim: 12, layers: '20-10-5' });
    assert.deepEqual([a.gmfDim, a.mlpDim, a.hidden], [8, 12, [20, 10, 5]]);
    const m = getModel('neumf').manifest({ numItems: 10, factors: 8, mlpDim: 12, layers: '20-10-5' });
    assert.deepEqual(m.tensors.find((t) => t.name === 'mlp_w0')!.shape, [24, 20]);
    assert.deepEqual(m.tensors.find((t) => t.name === 'out_w')!.shape, [13, 1]);
    assert.throws(() => ncfArch('neumf', { numItems: 10, layers: '8-x' }), /layers/);
  });
});

describe('recsys local training: tfjs path and JS fast path', () => {
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });

  for (const kind of KINDS) {
    it(`${kind}: the tfjs trainer and the JS fast path agree on a tiny case`, async () => {
      const a = ncfArch(kind, { numItems: 30, factors: 4 });
      const w = ncfInitialWeights(a, 1);
      const shared = splitShared(w.manifest, w.body);
      const priv = ncfInitialPrivate(a, 2);
      const plan = planLocalTraining([1, 5, 7, 9, 20], 30, { epochs: 2, negatives: 4, seed: 3 });
      const o = { learningRate: 0.5, batchSize: 8 };
      const js = fitLocalJs(a, shared, priv, plan, o);
      const before = tf.memory().numTensors;
      const viaTf = await fitLocalTf(a, shared, priv, plan, o);
      assert.equal(tf.memory().numTensors, before, 'no tensor leak');
      let moved = 0;
      for (const [name, d] of js.itemDeltas) {
        assert.ok(maxAbsDiff(d, viaTf.itemDeltas.get(name)!) < 1e-5, `${name} differs`);
        moved = Math.max(moved, ...d.map(Math.abs));
      }
      for (const [name, d] of js.denseDeltas) assert.ok(maxAbsDiff(d, viaTf.denseDeltas.get(name)!) < 1e-5, `${name} differs`);
      for (const [name, p] of js.privateAfter) assert.ok(maxAbsDiff(p, viaTf.privateAfter.get(name)!) < 1e-5, `${name} differs`);
      assert.ok(moved > 1e-3, 'training moved the item rows');
      assert.ok(Math.abs(js.loss - viaTf.loss) < 1e-5);
      const items = Int32Array.from([0, 3, 29]);
      assert.ok(maxAbsDiff(scoreItemsJs(a, shared, priv, items), await scoreTf(a, shared, priv, items)) < 1e-5);
      assert.equal(tf.memory().numTensors, before, 'no tensor leak after scoring');
    });
  }
});

describe('RecsysTrainer', () => {
  const data = generateSyntheticInteractions({ users: 20, items: 200, interactionsPerUser: 12, seed: 2 });
  const split = leaveOneOut(data, { seed: 1 });
  const user = split.users[4]!;
  const options = { numItems: split.numItems, factors: 4 };
  const config: TrainingConfig = { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.3, batchSize: 16, localEpochs: 2, extra: { negatives: 4 } };
  const ctx = (roundId: number): TaskContext => ({
    roundId,
    modelVersion: roundId,
    config,
    modelSpec: { name: 'neumf', options },
    global: ncfInitialWeights(ncfArch('neumf', options), 9),
  });

  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });

  it('fit returns a shared delta with row weights only on touched rows and keeps the user embedding private', async () => {
    const store = memoryPrivateStore();
    const trainer = new RecsysTrainer({ data: user, store, seed: 5 });
    const task = ctx(1);
    const before = tf.memory().numTensors;
    const out = await trainer.fit(task);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak across a round');
    const manifest = task.global.manifest;
    assert.equal(out.delta.length, sharedSize(manifest));
    assert.equal(out.rowWeights!.length, rowWeightsSize(manifest));
    assert.equal(out.numExamples, user.trainItems.length * 5);
    assert.ok(Number.isFinite(out.metrics['loss']));
    // Every positive is touched (weight = epochs); untouched rows have weight 0 and a zero delta.
    let rowOffset = 0;
    for (const { spec, offset } of sharedLayout(manifest)) {
      if (!spec.rowwise) continue;
      const width = spec.shape[1]!;
      for (let item = 0; item < split.numItems; item++) {
        const w = out.rowWeights![rowOffset + item]!;
        const row = out.delta.subarray(offset + item * width, offset + (item + 1) * width);
        if (user.trainItems.includes(item)) assert.ok(w >= config.localEpochs, `positive ${item} weight ${w}`);
        if (w === 0)
          assert.ok(
            row.every((v) => v === 0),
            `untouched row ${item} moved`,
          );
        else
          assert.ok(
            row.some((v) => v !== 0),
            `touched row ${item} did not move`,
          );
      }
      rowOffset += spec.shape[0]!;
    }
    assert.ok(store.entries.has('neumf/user_gmf') && store.entries.has('neumf/user_mlp'), 'private rows persisted');
    const stored = store.entries.get('neumf/user_gmf')!.slice();
    await trainer.fit(ctx(2));
    assert.notDeepEqual(store.entries.get('neumf/user_gmf'), stored, 'the private row keeps training across rounds');
  });

  it('the tfjs and js engines give the same fit outcome', async () => {
    const viaTf = await new RecsysTrainer({ data: user, seed: 5 }).fit(ctx(1));
    const viaJs = await new RecsysTrainer({ data: user, seed: 5, engine: 'js' }).fit(ctx(1));
    assert.ok(maxAbsDiff(viaTf.delta, viaJs.delta) < 1e-5);
    assert.deepEqual(viaTf.rowWeights, viaJs.rowWeights);
  });

  it('evaluate scores the held-out item on the device; recommend returns unseen top-k', async () => {
    const trainer = new RecsysTrainer({ data: user, seed: 5 });
    const e = await trainer.evaluate(ctx(1));
    assert.equal(e.numExamples, 1);
    assert.ok(e.metrics['hr10'] === 0 || e.metrics['hr10'] === 1);
    assert.ok(e.metrics['ndcg10']! >= 0 && e.metrics['ndcg10']! <= 1);
    assert.ok(e.metrics['loss']! > 0);
    const recs = await trainer.recommend(5);
    assert.equal(recs.length, 5);
    for (const r of recs) assert.ok(!user.trainItems.includes(r.item) && r.item !== user.testItem);
    for (let k = 1; k < recs.length; k++) assert.ok(recs[k - 1]!.score >= recs[k]!.score);
    const custom = await trainer.recommend(3, []);
    assert.equal(custom.length, 3);
  });

  it('refuses weights that do not match the model options', async () => {
    const trainer = new RecsysTrainer({ data: user });
    const bad = { ...ctx(1), modelSpec: { name: 'neumf', options: { ...options, factors: 6 } } };
    await assert.rejects(trainer.fit(bad), /do not match/);
  });
});
