import assert from 'node:assert/strict';
import { CATALOGUE_KEY, ClientCatalogue, MemoryStore, NUMERIC_CATALOGUE, isItemId } from '@fedrec/client-sdk';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { recsysModelOptions } from '@fedrec/recsys/defaults.js';
import type { CatalogueSnapshot } from '@fedrec/protocol';

const full = (ids: string[], version = 0): CatalogueSnapshot => ({
  catalogueVersion: version,
  numItems: ids.length,
  since: null,
  items: ids.map((id, row) => ({ id, row, addedIn: 0 })),
  popularity: ids.map((_, i) => i),
  popularityModelVersion: 4,
});

describe('client-sdk: the catalogue copy and app ids', () => {
  it('numeric ids name rows under the default catalogue ("n" and n alike), others are unknown', () => {
    assert.equal(NUMERIC_CATALOGUE.rowOf(3, 10), 3);
    assert.equal(NUMERIC_CATALOGUE.rowOf('3', 10), 3);
    assert.equal(NUMERIC_CATALOGUE.rowOf('03', 10), undefined);
    assert.equal(NUMERIC_CATALOGUE.rowOf(10, 10), undefined);
    assert.equal(NUMERIC_CATALOGUE.rowOf('sku-1', 10), undefined);
    assert.equal(NUMERIC_CATALOGUE.idOf(7), '7');
    assert.ok(isItemId('sku/1@v2+x:y_z.-') && isItemId(0) && !isItemId('a b') && !isItemId('') && !isItemId(-1) && !isItemId('x'.repeat(129)));
  });

  it('applies a full copy then additions that follow on; refuses additions that do not, and rows that change id', () => {
    const c = new ClientCatalogue();
    assert.equal(c.apply({ ...full(['a']), since: 3 }), false, 'additions without a base');
    assert.ok(c.apply(full(['a', 'b'])));
    assert.ok(
      c.apply({
        catalogueVersion: 1,
        numItems: 3,
        since: 0,
        items: [{ id: 'c', row: 2, addedIn: 1, tags: ['t'] }],
        popularity: [1, 1, 0],
        popularityModelVersion: 6,
      }),
    );
    assert.equal(c.version, 1);
    assert.equal(c.rowOf('c', 3), 2);
    assert.equal(c.rowOf('c', 2), undefined, 'beyond the model rows');
    assert.deepEqual(c.item(2), { id: 'c', row: 2, tags: ['t'] });
    assert.equal(
      c.apply({ catalogueVersion: 2, numItems: 4, since: 0, items: [{ id: 'd', row: 3, addedIn: 2 }], popularity: [0, 0, 0, 0], popularityModelVersion: 6 }),
      false,
    );
    assert.equal(c.apply({ ...full(['a', 'b', 'x']), since: 1, catalogueVersion: 2 }), false, 'row 2 would change id');
    assert.equal(c.version, 1);
    assert.deepEqual(Array.from(c.popularity()!), [1, 1, 0]);
  });

  it('persists in the store and loads back (offline), ignoring a damaged copy', async () => {
    const store = new MemoryStore();
    const c = new ClientCatalogue();
    c.apply(full(['x', 'y', 'z'], 2));
    await c.save(store);
    const back = new ClientCatalogue();
    assert.ok(await back.load(store));
    assert.equal(back.version, 2);
    assert.equal(back.idOf(1), 'y');
    assert.equal(back.popularityModelVersion, 4);
    await store.set(CATALOGUE_KEY, { version: 1, items: [1, 2], popularity: new Float32Array(2) });
    assert.equal(await new ClientCatalogue().load(store), false);
  });

  it('LiveRecsysTrainer maps app ids through the catalogue, keeps unknown ids, and recommends app ids', async () => {
    const store = new MemoryStore();
    const options = recsysModelOptions(5);
    const trainer = new LiveRecsysTrainer({ store, user: 1, engine: 'js' });
    trainer.setGlobal({ name: 'neumf', options }, neumfModel.initialWeights(options, 1), 0);
    await store.append([
      { itemId: 'b', kind: 'click', timestamp: 1 },
      { itemId: 'later', kind: 'click', timestamp: 2 },
      { itemId: 'c', kind: 'view', timestamp: 3 },
    ]);
    assert.deepEqual((await trainer.liked()).items, [], 'string ids mean nothing to the numeric default');
    const c = new ClientCatalogue();
    c.apply(full(['a', 'b', 'c', 'd', 'e']));
    trainer.setCatalogue(c);
    const liked = await trainer.liked();
    assert.deepEqual(liked.ids, ['b']);
    assert.deepEqual([...liked.seen].sort(), [1, 2]);
    const recs = await trainer.recommend(5);
    assert.deepEqual(recs.map((r) => r.itemId).sort(), ['a', 'd', 'e']);
    for (const r of recs) assert.equal(r.itemId, c.idOf(r.item));
    assert.deepEqual(Array.from(trainer.prior()!), [0, 1, 2, 3, 4]);
  });
});
