import assert from 'node:assert/strict';
import { rowLayout, splitShared, type ModelSpec, type TrainingConfig, type Weights } from '@fedrec/protocol';
import { RecsysTrainer, memoryPrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { getModel } from '@fedrec/models/registry.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { seededUser } from '../models/engine-fixtures.js';

const NUM_ITEMS = 120;
const CONFIG: TrainingConfig = { localEpochs: 2, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 4 } };

/** The offsets of a named shared tensor in the flat body. */
function segment(global: Weights, name: string): { offset: number; size: number } {
  const s = rowLayout(global.manifest).segments.find((x) => x.name === name);
  if (!s) throw new Error(`no tensor ${name}`);
  return s;
}

// PFedRec (Zhang et al., IJCAI'23) on both model families: each device's score function stays on it, item rows are fine-tuned.
for (const [model, head, items] of [
  ['seq', ['head_w', 'head_b'], ['item_in', 'item_out', 'item_bias']],
  ['neumf', ['mlp_w0', 'mlp_b0', 'mlp_w1', 'mlp_b1', 'out_w', 'out_b'], ['item_gmf', 'item_mlp']],
] as const) {
  describe(`PFedRec personalization: ${model}`, () => {
    // seq untied, so both of its item tables (item_in, item_out) are checked.
    const spec: ModelSpec = { name: model, options: model === 'seq' ? seqModelOptions(NUM_ITEMS, { tied: false }) : recsysModelOptions(NUM_ITEMS) };
    const global = getModel(model).initialWeights(spec.options, 5);
    const data = seededUser({ seed: 8, user: 4, numItems: NUM_ITEMS, liked: 15 });
    const task = (roundId: number, weights = global) => ({ roundId, modelVersion: roundId, config: CONFIG, modelSpec: spec, global: weights });

    it('the score function never leaves the device: its delta is zero, and the device keeps its own trained copy', async () => {
      const store = memoryPrivateStore();
      const personal = new RecsysTrainer({ data, store, engine: 'js', personalization: 'pfedrec' });
      const plain = new RecsysTrainer({ data, engine: 'js' });
      const out = await personal.fit(task(1));
      const ref = await plain.fit(task(1));
      for (const name of head) {
        const { offset, size } = segment(global, name);
        assert.ok(
          out.delta.subarray(offset, offset + size).every((v) => v === 0),
          `${name}: nothing uploaded`,
        );
        assert.ok(
          ref.delta.subarray(offset, offset + size).some((v) => v !== 0),
          `${name}: without personalization it trains and uploads`,
        );
        const kept = store.entries.get(`${model}/pfedrec/${name}`);
        const start = splitShared(global.manifest, global.body).get(name)!;
        assert.ok(kept && kept.some((v, k) => v !== start[k]), `${name}: the device keeps its trained copy`);
      }
      for (const name of items) {
        const { offset, size } = segment(global, name);
        assert.ok(
          out.delta.subarray(offset, offset + size).some((v) => v !== 0),
          `${name}: item rows are still shared`,
        );
      }
    });

    it('the next round trains from the device’s own score function, and scoring uses it with the item fine-tune', async () => {
      const store = memoryPrivateStore();
      const personal = new RecsysTrainer({ data, store, engine: 'js', personalization: 'pfedrec' });
      const plain = new RecsysTrainer({ data, engine: 'js' });
      await personal.fit(task(1));
      const second = await personal.fit(task(2));
      const fresh = await new RecsysTrainer({ data, engine: 'js', personalization: 'pfedrec' }).fit(task(2));
      assert.ok(
        second.delta.some((v, k) => v !== fresh.delta[k]),
        'round 2 starts from the kept score function, not the global one',
      );
      const mine = await personal.evaluate(task(2));
      const theirs = await plain.evaluate(task(2));
      assert.notEqual(mine.metrics['loss'], theirs.metrics['loss'], 'evaluation scores with the personal model');
      for (const v of Object.values(mine.metrics)) assert.ok(Number.isFinite(v));
    });

    it('a fit that diverges fails the round and changes nothing kept on the device; the next round trains as before', async () => {
      const store = memoryPrivateStore();
      const personal = new RecsysTrainer({ data, store, engine: 'js', personalization: 'pfedrec' });
      await personal.fit(task(1));
      const before = new Map([...store.entries].map(([k, v]) => [k, v.slice()]));
      assert.ok(before.size > 0 && [...before.values()].every((v) => v.every(Number.isFinite)));
      // An lr this large overflows float32 within a few steps: the fit's weights become ±Infinity or NaN.
      const diverging = { ...task(2), config: { ...CONFIG, learningRate: 1e30 } };
      await assert.rejects(personal.fit(diverging), /local fit diverged/);
      assert.deepEqual(store.entries, before, 'neither the score function, the fine-tune nor the private tensors changed');
      const next = await personal.fit(task(3));
      assert.ok(next.delta.every(Number.isFinite), 'the device is not stuck: its next round trains');
    });

    it("'positives' fine-tune keeps only the device's own items' rows; the upload is the same as 'touched'", async () => {
      const withMode = (mode: string) => ({ ...task(1), config: { ...CONFIG, extra: { ...CONFIG.extra, pfedrecFineTune: mode } } });
      const touchedStore = memoryPrivateStore();
      const positivesStore = memoryPrivateStore();
      const touched = await new RecsysTrainer({ data, store: touchedStore, engine: 'js', personalization: 'pfedrec' }).fit(withMode('touched'));
      const positives = await new RecsysTrainer({ data, store: positivesStore, engine: 'js', personalization: 'pfedrec' }).fit(withMode('positives'));
      assert.deepEqual(positives.delta, touched.delta, 'the same rows travel up either way');
      const own = new Set(data.trainItems);
      const allKept = Array.from(touchedStore.entries.get(`${model}/pfedrec/items`)!);
      const kept = Array.from(positivesStore.entries.get(`${model}/pfedrec/items`)!);
      assert.ok(
        allKept.some((item) => !own.has(item)),
        "'touched' keeps sampled negatives' rows",
      );
      assert.deepEqual(
        kept,
        allKept.filter((item) => own.has(item)),
        "'positives' keeps exactly the device's own items, in order",
      );
      for (const name of items) {
        const width = segment(global, name).size / NUM_ITEMS;
        const all = touchedStore.entries.get(`${model}/pfedrec/offset/${name}`)!;
        const mine = positivesStore.entries.get(`${model}/pfedrec/offset/${name}`)!;
        assert.equal(mine.length, kept.length * width);
        kept.forEach((item, j) => {
          const k = allKept.indexOf(item);
          assert.deepEqual(mine.subarray(j * width, (j + 1) * width), all.subarray(k * width, (k + 1) * width), `${name} row of item ${item}`);
        });
      }
      await assert.rejects(
        new RecsysTrainer({ data, engine: 'js', personalization: 'pfedrec' }).fit(withMode('some')),
        /pfedrec fine-tune must be one of touched, positives/,
      );
    });
  });
}
