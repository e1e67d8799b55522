import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { splitShared } from '@fedrec/protocol';
import { evaluateItemPop } from '@fedrec/recsys/baselines/item-pop.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { fitLocalJs } from '@fedrec/models/ncf/engine/local-fit.js';
import { planLocalTraining } from '@fedrec/models/ncf/engine/plan.js';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { FedAvg } from '@fedrec/coordinator/strategy/fedavg.js';
import { toSparseUpdate } from '@fedrec/simulate/in-process/round-sums.js';
import { simulateFederated } from '@fedrec/simulate/in-process/run.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';

/** 40 synthetic users, a small NeuMF and two short rounds: enough to compare two runs of the same loop. */
function smallWorld() {
  const data = generateSyntheticInteractions({ users: 40, items: 150, interactionsPerUser: 10, seed: 5 });
  const split = leaveOneOut(data, { seed: 2 });
  const a = ncfArch('neumf', { numItems: split.numItems, factors: 4 });
  const o = { rounds: 2, clientsPerRound: 30, localEpochs: 1, batchSize: 4, clientLr: 0.5, serverLr: 1, negatives: 4, seed: 3, evalEvery: 2 };
  return { split, a, o };
}

describe('recsys federated simulation', () => {
  it("runs the coordinator's aggregation: dense by examples, item rows by the clients that touched them", () => {
    const a = ncfArch('gmf', { numItems: 6, factors: 2 });
    const w = ncfInitialWeights(a, 1);
    const shared = new Map([...splitShared(w.manifest, w.body)].map(([n, t]) => [n, t.slice()]));
    const original = new Map([...shared].map(([n, t]) => [n, t.slice()]));
    const priv = new Map([['user_gmf', new Float32Array([0.3, -0.2])]]);
    const r1 = fitLocalJs(a, shared, priv, planLocalTraining([0, 1], 6, { epochs: 1, negatives: 1, seed: 1 }), { learningRate: 1, batchSize: 2 });
    const r2 = fitLocalJs(a, shared, priv, planLocalTraining([1, 2, 3], 6, { epochs: 1, negatives: 1, seed: 2 }), { learningRate: 1, batchSize: 2 });
    // The simulation's path: local results into the coordinator's accumulator, then its FedAvg.
    const acc = new UpdateAccumulator(w.manifest);
    acc.addSparse(toSparseUpdate(r1));
    acc.addSparse(toSparseUpdate(r2));
    const next = new FedAvg({ serverLearningRate: 2 }).aggregateFit(1, { manifest: w.manifest, body: w.body.slice() }, acc.sums, []);
    for (const [name, t] of splitShared(next.manifest, next.body)) shared.set(name, t.slice());
    // Dense: global + 2 · (n1 Δ1 + n2 Δ2) / (n1 + n2).
    const n1 = r1.numExamples;
    const n2 = r2.numExamples;
    const outW = shared.get('out_w')!;
    outW.forEach((v, k) => {
      const expected = original.get('out_w')![k]! + (2 * (n1 * r1.denseDeltas.get('out_w')![k]! + n2 * r2.denseDeltas.get('out_w')![k]!)) / (n1 + n2);
      assert.ok(Math.abs(v - expected) < 1e-6);
    });
    // Row 1 (both touched it): weighted by each client's row count; row 0 only by client 1.
    const rowDelta = (r: typeof r1, item: number, k: number) => {
      const local = r.localItems.indexOf(item);
      return local < 0 ? { w: 0, d: 0 } : { w: r.rowCounts[local]!, d: r.itemDeltas.get('item_gmf')![local * 2 + k]! };
    };
    for (let item = 0; item < 6; item++) {
      for (let k = 0; k < 2; k++) {
        const x = rowDelta(r1, item, k);
        const y = rowDelta(r2, item, k);
        const before = original.get('item_gmf')![item * 2 + k]!;
        const expected = x.w + y.w === 0 ? before : before + (2 * (x.w * x.d + y.w * y.d)) / (x.w + y.w);
        assert.ok(Math.abs(shared.get('item_gmf')![item * 2 + k]! - expected) < 1e-6, `item ${item}`);
      }
    }
  });

  it('a short federated run on synthetic data rises clearly above ItemPop', async () => {
    const data = generateSyntheticInteractions({ users: 200, items: 300, interactionsPerUser: 25, seed: 11 });
    const split = leaveOneOut(data, { seed: 3 });
    const pop = evaluateItemPop(split.users, split.numItems);
    const a = ncfArch('neumf', { numItems: split.numItems, factors: 8 });
    const { history, final } = await simulateFederated(a, split.users, {
      rounds: 12,
      clientsPerRound: 200,
      localEpochs: 2,
      batchSize: 4,
      clientLr: 1,
      serverLr: 1,
      negatives: 4,
      seed: 1,
      evalEvery: 12,
    });
    assert.equal(history.length, 12);
    assert.ok(history[11]!.trainLoss < history[0]!.trainLoss, 'training loss falls');
    assert.ok(final.hr10 > pop.hr10 + 0.08, `federated HR@10 ${final.hr10.toFixed(3)} vs ItemPop ${pop.hr10.toFixed(3)}`);
  });

  it('worker threads give the same model as the in-process run', async () => {
    const { split, a, o } = smallWorld();
    const inProcess = await simulateFederated(a, split.users, o);
    const pooled = await simulateFederated(a, split.users, o, { workers: 2 });
    for (const [name, t] of inProcess.shared) {
      const u = pooled.shared.get(name)!;
      t.forEach((v, k) => assert.ok(Math.abs(v - u[k]!) < 1e-5, `${name}[${k}]`));
    }
    assert.equal(pooled.final.users, inProcess.final.users);
    assert.equal(pooled.final.hr10, inProcess.final.hr10);
  });

  it('runs a registered strategy by name with its options (FedAdam here), through the same loop', async () => {
    const { split, a, o } = smallWorld();
    const fedavg = await simulateFederated(a, split.users, o);
    const fedadam = await simulateFederated(a, split.users, { ...o, strategy: 'fedadam', strategyOptions: { eta: 0.05 } });
    assert.equal(fedadam.history.length, 2);
    assert.ok(fedadam.history.every((r) => r.clients === 30 && Number.isFinite(r.trainLoss)));
    const differs = [...fedavg.shared].some(([name, t]) => t.some((v, k) => v !== fedadam.shared.get(name)![k]));
    assert.ok(differs, 'the strategy option reached the aggregation');
    await assert.rejects(simulateFederated(a, split.users, { ...o, strategy: 'fedadam', strategyOptions: { momentum: 0.9 } }), /strategy fedadam/);
  });
});
