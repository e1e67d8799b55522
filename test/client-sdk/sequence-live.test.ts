import assert from 'node:assert/strict';
import { MemoryStore } from '@fedrec/client-sdk';
import { splitShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import type { TaskContext } from '@fedrec/client-sdk/trainer.js';
import { topK } from '@fedrec/client-sdk/trainers/top-k.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { seqStateOf } from '@fedrec/models/seq/init.js';
import { seqArch } from '@fedrec/models/seq/arch.js';
import { scoreSeqAllJs } from '@fedrec/models/seq/engine/score.js';
import { holdOutLatest } from '@fedrec/recsys/split.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';

const NUM_ITEMS = 120;

function seqModel(longTerm = false, attention = false): { spec: ModelSpec; weights: Weights } {
  const options = seqModelOptions(NUM_ITEMS, { seqLen: 3, attention, ...(longTerm ? { longTerm, historyLen: 5 } : {}) });
  // initStd 0.5: item rows far enough apart that any change of the state reorders the top 10.
  return { spec: { name: 'seq', options }, weights: defaultModelRegistry.definition('seq').initialWeights({ ...options, initStd: 0.5 }, 11) };
}

/** The top 10 the seq model gives a state of `history` (time order), written from the engine's own scorer. */
function expectedTop(m: { spec: ModelSpec; weights: Weights }, history: number[], k = 10): number[] {
  const a = seqArch(m.spec.options);
  const logits = scoreSeqAllJs(a, splitShared(m.weights.manifest, m.weights.body), seqStateOf(a, history));
  return topK(logits, k, new Set(history));
}

describe('LiveRecsysTrainer with the seq model: the recorded events are the state', function () {
  this.timeout(60_000);

  for (const attention of [false, true])
    it(`recommend() ranks from the last L liked items in time order, and one more event changes the list at once${attention ? ' (attention pooling)' : ''}`, async () => {
      const m = seqModel(false, attention);
      const store = new MemoryStore();
      const trainer = new LiveRecsysTrainer({ store, user: 4, engine: 'js', prior: () => undefined });
      trainer.setGlobal(m.spec, m.weights, 0);
      // Recorded out of id order: the state follows the timestamps, not the ids or the order of appends.
      const events: Array<[item: number, t: number]> = [
        [90, 3],
        [5, 1],
        [47, 2],
        [13, 4],
      ];
      for (const [item, t] of events) await store.append({ itemId: String(item), kind: 'click', timestamp: t });
      const history = [5, 47, 90, 13];
      const before = (await trainer.recommend(10)).map((r) => r.item);
      assert.deepEqual(before, expectedTop(m, history));

      await store.append({ itemId: '71', kind: 'click', timestamp: 5 });
      const after = (await trainer.recommend(10)).map((r) => r.item);
      assert.deepEqual(after, expectedTop(m, [...history, 71]));
      assert.notDeepEqual(after, before, 'the new event moved the recommendations with no round in between');

      // The same four items in another time order give another state (L = 3): a sequence, not a set.
      const reordered = new MemoryStore();
      const other = new LiveRecsysTrainer({ store: reordered, user: 4, engine: 'js', prior: () => undefined });
      other.setGlobal(m.spec, m.weights, 0);
      for (const [t, item] of [13, 90, 47, 5].entries()) await reordered.append({ itemId: String(item), kind: 'click', timestamp: t });
      const otherTop = (await other.recommend(10)).map((r) => r.item);
      assert.deepEqual(otherTop, expectedTop(m, [13, 90, 47, 5]));
      assert.notDeepEqual(otherTop, before);
    });

  it('with the long-term term, recommend() also reads the recorded items older than L (up to historyLen), and a new event still acts at once', async () => {
    const m = seqModel(true);
    const store = new MemoryStore();
    const trainer = new LiveRecsysTrainer({ store, user: 5, engine: 'js', prior: () => undefined });
    trainer.setGlobal(m.spec, m.weights, 0);
    const history = [8, 64, 30, 99, 12];
    for (const [t, item] of history.entries()) await store.append({ itemId: String(item), kind: 'click', timestamp: t });
    const before = (await trainer.recommend(10)).map((r) => r.item);
    assert.deepEqual(before, expectedTop(m, history));
    // The same last L = 3 items after other older ones: only the long-term term can tell them apart.
    assert.notDeepEqual(expectedTop(m, [41, 77, 30, 99, 12]), before, 'older items move the list');
    await store.append({ itemId: '71', kind: 'click', timestamp: 9 });
    assert.deepEqual(
      (await trainer.recommend(10)).map((r) => r.item),
      expectedTop(m, [...history, 71]),
    );
  });

  it('a round fit trains on the liked items in time order, the latest held out', async () => {
    const m = seqModel();
    const store = new MemoryStore();
    const live = new LiveRecsysTrainer({ store, user: 9, engine: 'js' });
    const stamps = [40, 10, 30, 20, 50, 60];
    const items = [3, 88, 17, 60, 25, 102];
    for (const [k, item] of items.entries()) await store.append({ itemId: String(item), kind: 'click', timestamp: stamps[k]! });
    const ctx: TaskContext = {
      roundId: 2,
      modelVersion: 0,
      modelSpec: m.spec,
      global: m.weights,
      config: { localEpochs: 1, batchSize: 4, learningRate: 0.5, optimizer: 'sgd', extra: { negatives: 2 } },
    };
    const got = await live.fit(ctx);
    // The same fit written out: held-out latest (102 at t=60), the rest by timestamp.
    const data = holdOutLatest(9, items, stamps, NUM_ITEMS, { negatives: 99, seed: 1 });
    assert.equal(data.testItem, 102);
    const want = await new RecsysTrainer({ data, sequence: Int32Array.from([88, 60, 17, 3, 25]), engine: 'js' }).fit(ctx);
    assert.deepEqual(got.delta, want.delta);
    assert.equal(got.numExamples, want.numExamples);
    // And the order matters: the id-sorted set trains differently.
    const bySet = await new RecsysTrainer({ data, sequence: Int32Array.from([3, 17, 25, 60, 88]), engine: 'js' }).fit(ctx);
    assert.notDeepEqual(got.delta, bySet.delta);
  });
});
