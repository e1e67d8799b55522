import assert from 'node:assert/strict';
import { emptySums, rowLayout, sharedSize, type WeightManifest, type Weights } from '@fedrec/protocol';
import { Catalogue } from '@fedrec/coordinator/catalogue.js';
import { growFlat, growManifest, growModel } from '@fedrec/coordinator/catalogue-growth.js';
import { FedAdam, FedAvgM } from '@fedrec/coordinator';

// Two rowwise item tables (3 rows) and a plain tensor, as NeuMF has them.
const manifest: WeightManifest = {
  tensors: [
    { name: 'user', shape: [1, 2], dtype: 'float32', shared: false },
    { name: 'item_a', shape: [3, 2], dtype: 'float32', shared: true, rowwise: true },
    { name: 'w', shape: [2], dtype: 'float32', shared: true },
    { name: 'item_b', shape: [3, 1], dtype: 'float32', shared: true, rowwise: true },
  ],
};
const spec = { name: 'test', options: { numItems: 3, factors: 2 } };
// item_a rows: [1,0] [3,0] [0,6]; w: [7,8]; item_b rows: 1, 2, 3
const global: Weights = { manifest, body: Float32Array.from([1, 0, 3, 0, 0, 6, 7, 8, 1, 2, 3]) };

describe('coordinator: catalogue growth', () => {
  it('grows every rowwise item table and numItems; existing values and plain tensors stay', () => {
    const existing = Catalogue.of([{ id: 'a', tags: ['red'] }, { id: 'b', tags: ['red', 'big'] }, { id: 'c' }]);
    const { weights, modelSpec } = growModel(global, spec, existing.all(), [{ id: 'd', tags: ['red'] }, { id: 'e' }, { id: 'f', tags: ['unknown'] }], {
      noiseScale: 0,
    });
    assert.equal(modelSpec.options['numItems'], 6);
    assert.equal(modelSpec.options['factors'], 2);
    assert.deepEqual(
      weights.manifest.tensors.map((t) => t.shape),
      [[1, 2], [6, 2], [2], [6, 1]],
    );
    assert.equal(weights.body.length, sharedSize(weights.manifest));
    const [a, w, b] = rowLayout(weights.manifest).segments.map((s) => Array.from(weights.body.subarray(s.offset, s.offset + s.size)));
    // d shares "red" with a and b: mean of [1,0] and [3,0]; e and f (no known tag): mean of all rows.
    assert.deepEqual(a, [1, 0, 3, 0, 0, 6, 2, 0, 4 / 3, 2, 4 / 3, 2].map(Math.fround));
    assert.deepEqual(w, [7, 8]);
    assert.deepEqual(b, [1, 2, 3, 1.5, 2, 2].map(Math.fround));
  });

  it('adds small seeded noise, so new items are not ties, and the same growth gives the same rows', () => {
    const grow = () => growModel(global, spec, [], [{ id: 'x' }, { id: 'y' }], { seed: 5 }).weights.body;
    const one = grow();
    assert.deepEqual(Array.from(one), Array.from(grow()));
    const rows = rowLayout(growManifest(manifest, 3, 5)).tables[0]!;
    const x = one.subarray(rows.offset + 3 * 2, rows.offset + 4 * 2);
    const y = one.subarray(rows.offset + 4 * 2, rows.offset + 5 * 2);
    assert.notDeepEqual(Array.from(x), Array.from(y));
    for (const v of [...x, ...y].map((v, i) => v - [4 / 3, 2][i % 2]!)) assert.ok(Math.abs(v) < 1.5, `noise ${v} is small next to the row spread`);
  });

  it('matchNorm rescales a prior to the mean norm of the rows it averages', () => {
    const existing = Catalogue.of([{ id: 'a', tags: ['red'] }, { id: 'b', tags: ['red'] }, { id: 'c' }]);
    const { weights } = growModel(global, spec, existing.all(), [{ id: 'd', tags: ['red'] }], { noiseScale: 0, matchNorm: true });
    const a = rowLayout(weights.manifest).tables[0]!;
    // rows [1,0] and [3,0]: mean [2,0], mean norm 2, so the prior stays [2,0]; item_b: mean 1.5 of norms 1 and 2 -> 1.5
    assert.deepEqual(Array.from(weights.body.subarray(a.offset + 6, a.offset + 8)), [2, 0]);
    const { weights: w2 } = growModel(global, spec, [], [{ id: 'e' }], { noiseScale: 0, matchNorm: true });
    // mean of all rows [4/3, 2] rescaled to the mean norm (1 + 3 + 6) / 3
    const row = Array.from(w2.body.subarray(a.offset + 6, a.offset + 8));
    assert.ok(Math.abs(Math.hypot(...row) - 10 / 3) < 1e-5);
    assert.ok(Math.abs(row[0]! / row[1]! - 2 / 3) < 1e-5);
  });

  it('refuses a model without numItems', () => {
    assert.throws(() => growModel(global, { name: 'logistic', options: { features: 3 } }, [], [{ id: 'x' }]), /numItems/);
  });

  it('grows a flat state vector with zero rows (growFlat), and FedAvgM and FedAdam keep their state for old rows', () => {
    const to = growManifest(manifest, 3, 4);
    const vec = Float64Array.from(global.body, (_, i) => i + 1);
    assert.deepEqual(Array.from(growFlat(manifest, to, vec, (n) => new Float64Array(n))), [1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 0]);
    assert.throws(() => growFlat(manifest, to, new Float64Array(3), (n) => new Float64Array(n)), /old layout/);

    for (const strategy of [new FedAvgM({ momentum: 0.5 }), new FedAdam({ eta: 0.1 })]) {
      const sums = emptySums(manifest);
      sums.weightedDeltaSum.fill(1);
      sums.rowWeightSums.fill(1);
      sums.weightSum = 1;
      sums.contributors = 1;
      const after1 = strategy.aggregateFit(0, global, sums, []);
      strategy.growRows(manifest, to);
      const grown: Weights = { manifest: to, body: growFlat(manifest, to, after1.body, (n) => new Float32Array(n)) };
      // A round on the grown model that reports nothing moves old rows by their state only, and new rows not at all.
      const silent = emptySums(to);
      const after2 = strategy.aggregateFit(1, grown, silent, []);
      assert.equal(after2.body.length, sharedSize(to));
      const newRowA = rowLayout(to).tables[0]!;
      assert.deepEqual(Array.from(after2.body.subarray(newRowA.offset + 3 * 2, newRowA.offset + 4 * 2)), [0, 0], `${strategy.name}: new rows stay put`);
      // A report on the new row is applied (and the state of the old rows carried over: no exception, right length).
      const touch = emptySums(to);
      touch.weightedDeltaSum[newRowA.offset + 3 * 2] = 2;
      touch.rowWeightSums[3] = 1;
      touch.weightSum = 1;
      touch.contributors = 1;
      const after3 = strategy.aggregateFit(2, after2, touch, []);
      assert.ok(after3.body[newRowA.offset + 3 * 2]! > 0, `${strategy.name}: the new row learns`);
    }
  });

  it('keeps popularity per row from committed sums, serves additions since a version, and restores from JSON', () => {
    const c = Catalogue.numeric(3);
    assert.equal(c.rowOf('2'), 2);
    const sums = emptySums(manifest);
    sums.rowWeightSums.set([5, 0, 1, 9, 9, 9]);
    c.addPopularity(manifest, sums.rowWeightSums, 1);
    c.append([{ id: 'sku-9', tags: ['t'] }]);
    assert.throws(() => c.append([{ id: 'sku-9' }]), /already in the catalogue/);
    const grown = growManifest(manifest, 3, 4);
    const sums2 = emptySums(grown);
    sums2.rowWeightSums.set([1, 1, 1, 4]);
    c.addPopularity(grown, sums2.rowWeightSums, 3);
    const snap = c.snapshot();
    assert.deepEqual(snap.popularity, [6, 1, 2, 4]);
    assert.equal(snap.popularityModelVersion, 3);
    assert.deepEqual(
      c.snapshot(0).items.map((i) => [i.id, i.row]),
      [['sku-9', 3]],
    );
    assert.deepEqual(c.snapshot(1).items, []);
    assert.deepEqual(Catalogue.restore(JSON.parse(JSON.stringify(c.toJSON()))).snapshot(), snap);
  });
});
