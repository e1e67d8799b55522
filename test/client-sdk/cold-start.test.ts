import assert from 'node:assert/strict';
import { MemoryStore } from '@fedrec/client-sdk';
import { splitShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { coldStartScores, personalWeight, popularityScores, standardize } from '@fedrec/client-sdk/trainers/cold-start.js';
import { itemEmbeddings } from '@fedrec/client-sdk/trainers/explain.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { topK } from '@fedrec/client-sdk/trainers/top-k.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';

const NUM_ITEMS = 300;

function model(name = 'neumf', numItems = NUM_ITEMS): { spec: ModelSpec; weights: Weights } {
  const options = recsysModelOptions(numItems);
  return { spec: { name, options }, weights: defaultModelRegistry.definition(name).initialWeights(options, 3) };
}

/** A power-law popularity vector whose order is unrelated to the model's rows. */
function popularity(n: number, seed = 5): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(1000 / (1 + rng.int(n)));
  return out;
}

function bySort(scores: Float32Array, k: number, exclude: Set<number>): number[] {
  return Array.from(scores.keys())
    .filter((i) => !exclude.has(i))
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, k);
}

/** Cosine per item table, averaged over the tables, written out independently of explain.ts. */
function cosine(w: Weights, a: number, b: number): number {
  const shared = splitShared(w.manifest, w.body);
  const tables = w.manifest.tensors.filter((t) => t.rowwise && t.shape[1]! > 1);
  let sum = 0;
  for (const t of tables) {
    const d = t.shape[1]!;
    const rows = shared.get(t.name)!;
    const x = rows.subarray(a * d, (a + 1) * d);
    const y = rows.subarray(b * d, (b + 1) * d);
    const dot = x.reduce((s, v, k) => s + v * y[k]!, 0);
    sum += dot / Math.hypot(...x) / Math.hypot(...y);
  }
  return sum / tables.length;
}

describe('cold start, explanations and real-time recommend() on the device', function () {
  this.timeout(60_000);

  it('topK picks the same items as a full sort, best first, without the excluded ones', () => {
    const rng = new SeededRandom(1);
    const scores = Float32Array.from({ length: 5000 }, () => Math.round(rng.normal() * 50) / 10); // many ties
    const exclude = new Set(bySort(scores, 7, new Set()).slice(0, 4));
    for (const k of [1, 10, 64]) assert.deepEqual(topK(scores, k, exclude), bySort(scores, k, exclude));
    assert.deepEqual(topK(Float32Array.from([NaN, 1, NaN, 2]), 3), [3, 1]);
    assert.deepEqual(topK(scores, 0), []);
  });

  it('blends prior and personal scores by the documented rule', () => {
    const prior = popularityScores(Float32Array.from([0, 10, 100, 3]), 4);
    assert.ok(prior[2]! > prior[1]! && prior[1]! > prior[3]! && prior[0] === 0);
    const personal = Float32Array.from([4, -1, -3, 0]);
    assert.deepEqual([0, 1, 2, 3, 5].map(personalWeight), [0, 1 / 3, 2 / 3, 1, 1]);
    assert.deepEqual(topK(coldStartScores(prior, personal, 0), 4), [2, 1, 3, 0]);
    assert.deepEqual(topK(coldStartScores(prior, personal, 3), 4), [0, 3, 1, 2]);
    const one = coldStartScores(prior, personal, 1);
    const zp = standardize(prior);
    const zq = standardize(personal);
    one.forEach((v, i) => assert.ok(Math.abs(v - ((2 / 3) * zp[i]! + (1 / 3) * zq[i]!)) < 1e-6));
  });

  for (const withPrior of [true, false]) {
    it(`a new user gets recommendations at once (${withPrior ? 'popularity prior' : 'neutral-user fallback'}), and its first events change them`, async () => {
      const { spec, weights } = model();
      const pop = popularity(NUM_ITEMS);
      const store = new MemoryStore();
      const trainer = new LiveRecsysTrainer({ store, user: 7, engine: 'js', ...(withPrior ? { prior: () => pop } : {}) });
      trainer.setGlobal(spec, weights, 0);
      const cold = await trainer.recommend(10);
      assert.equal(cold.length, 10);
      assert.ok(cold.every((r) => r.reason?.kind === 'popular'));
      if (withPrior)
        assert.deepEqual(
          cold.map((r) => r.item),
          bySort(popularityScores(pop, NUM_ITEMS), 10, new Set()),
        );

      // The first like: it leaves the list, the list moves, and the reason names it.
      const first = cold[0]!.item;
      await store.append({ itemId: first, kind: 'click', timestamp: 1 });
      const warm1 = await trainer.recommend(10);
      assert.equal(warm1.length, 10);
      assert.ok(!warm1.some((r) => r.item === first));
      assert.ok(warm1.every((r) => r.reason?.kind === 'similar-to-liked' && r.reason.item === first));

      // Three likes away from the popular head: the list is now the user's own.
      const liked = [first, 150, 151];
      for (const item of liked.slice(1)) await store.append({ itemId: item, kind: 'click', timestamp: 2 });
      const warm3 = await trainer.recommend(10);
      const coldSet = new Set(cold.map((r) => r.item));
      assert.ok(warm3.filter((r) => !coldSet.has(r.item)).length >= 3, `the top 10 moved: ${warm3.map((r) => r.item).join(',')} vs ${[...coldSet].join(',')}`);
      assert.ok(
        warm3.every((r, i) => i === 0 || warm3[i - 1]!.score >= r.score),
        'with three liked items the ranking is the model score, best first',
      );
    });
  }

  it('explains each recommendation by the liked item with the closest item embedding', async () => {
    const { spec, weights } = model();
    const store = new MemoryStore();
    const trainer = new LiveRecsysTrainer({ store, user: 3, engine: 'js' });
    trainer.setGlobal(spec, weights, 0);
    const liked = [11, 42, 97, 180, 260];
    for (const itemId of liked) await store.append({ itemId: String(itemId), kind: 'click', timestamp: itemId });
    const recs = await trainer.recommend(10);
    assert.equal(recs.length, 10);
    for (const r of recs) {
      assert.equal(r.reason?.kind, 'similar-to-liked');
      if (r.reason?.kind !== 'similar-to-liked') continue;
      assert.ok(liked.includes(r.reason.item), `reason names liked item ${r.reason.item}`);
      const sims = liked.map((l) => cosine(weights, r.item, l));
      assert.ok(Math.abs(r.reason.similarity - Math.max(...sims)) < 1e-5, `${r.reason.similarity} vs ${Math.max(...sims)}`);
      assert.equal(r.reason.item, liked[sims.indexOf(Math.max(...sims))]);
    }
    assert.deepEqual(
      itemEmbeddings(weights).tables.map((t) => t.name),
      ['item_gmf', 'item_mlp'],
    );
  });

  it('the dense catalogue scorer of the JS engine agrees with score() on every model of the family', async () => {
    for (const name of ['mf', 'gmf', 'mlp', 'neumf']) {
      const { spec, weights } = model(name, 500);
      const engine = await defaultModelRegistry.engine(name, 'js').load();
      if (engine.kind !== 'recommender' || !engine.scoreAll) throw new Error(`${name}: no dense scorer`);
      const shared = splitShared(weights.manifest, weights.body);
      const priv = engine.initialPrivate(spec.options, 9);
      const all = await engine.scoreAll(spec.options, shared, priv);
      const each = await engine.score(
        spec.options,
        shared,
        priv,
        Int32Array.from({ length: 500 }, (_, i) => i),
      );
      all.forEach((v, i) => assert.ok(Math.abs(v - each[i]!) < 1e-5, `${name} item ${i}: ${v} vs ${each[i]}`));
    }
  });

  it('recommend() after record() reflects the event without a new model, and reuses work when nothing changed', async () => {
    const { spec, weights } = model();
    const store = new MemoryStore();
    const trainer = new LiveRecsysTrainer({ store, user: 1, engine: 'js' });
    trainer.setGlobal(spec, weights, 0);
    for (const itemId of [5, 6, 7]) await store.append({ itemId, kind: 'click', timestamp: itemId });
    const before = await trainer.recommend(10);
    const again = await trainer.recommend(10);
    assert.deepEqual(again, before);
    await store.append({ itemId: before[0]!.item, kind: 'view', timestamp: 9 });
    const after = await trainer.recommend(10);
    assert.ok(!after.some((r) => r.item === before[0]!.item), 'a seen item leaves the list at once');
  });
});
