import assert from 'node:assert/strict';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { NcfNet } from '@fedrec/models/ncf/engine/net.js';
import { zeroParams } from '@fedrec/models/ncf/engine/params.js';
import { useBestBackend } from '@fedrec/models/ncf/tfjs/backend.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { RECSYS_DEFAULTS } from '@fedrec/recsys/defaults.js';
import { enginesAgreeContract } from './engine.contract.js';
import { realisticRecommenderFixture } from './engine-fixtures.js';

const close = (actual: ArrayLike<number>, expected: number[], what: string) => {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, k) => assert.ok(Math.abs(actual[k]! - e) < 1e-6, `${what}[${k}]: ${actual[k]} vs ${e}`));
};

describe('FedProx proximal term (Li et al. 2020)', () => {
  // MF, 2 factors, 3 items: logit = user · item + item bias. One positive (user 0, item 0), SGD lr 0.1, μ 0.5.
  const a = ncfArch('mf', { numItems: 3, factors: 2 });
  const start = () => {
    const p = zeroParams(a, 1, 3);
    p.userGmf.set([1, 2]);
    p.itemGmf.set([0.5, -0.5, 0.1, 0.2, 0.3, 0.3]);
    return p;
  };
  // The global model the fit started from (here deliberately not the current point, so the term is not zero).
  const anchor = zeroParams(a, 1, 3);
  anchor.itemGmf.set([0.4, -0.5, 0, 0.2, 0.3, 0.1]);
  anchor.itemBias.set([0.1, 0, 0]);

  it('one SGD step matches the hand-computed step, on touched and untouched item rows, never on the private user row', () => {
    const p = start();
    const net = new NcfNet(a, p, 1, 3, { proximal: { mu: 0.5, anchor } });
    net.trainBatch([0], [0], [1], 0, 1, 0.1, 'sgd');
    // By hand: z = 1·0.5 + 2·(−0.5) + 0 = −0.5; σ(z) = 0.3775407; dL/dz = σ(z) − 1 = −0.6224593.
    // item 0: BCE grad dz·user = (−0.6224593, −1.2449186); prox μ(w − anchor) = 0.5·(0.1, 0) = (0.05, 0)
    //   → w − 0.1·(−0.5724593, −1.2449186) = (0.5572459, −0.3755081).
    // item 1 (no BCE gradient): prox 0.5·(0.1, 0) = (0.05, 0) → (0.095, 0.2).
    // item 2: prox 0.5·(0, 0.2) = (0, 0.1) → (0.3, 0.29).
    close(p.itemGmf, [0.5572459, -0.3755081, 0.095, 0.2, 0.3, 0.29], 'item rows');
    // biases: item 0: dz + 0.5·(0 − 0.1) = −0.6724593 → 0.0672459; items 1, 2 sit at their anchor 0.
    close(p.itemBias, [0.0672459, 0, 0], 'item biases');
    // user (private, no proximal term): dz·item0 = (−0.3112296, 0.3112296) → (1.0311230, 1.9688770).
    close(p.userGmf, [1.031123, 1.968877], 'user row');
  });

  it('μ = 0 is plain SGD', () => {
    const plain = start();
    const prox = start();
    new NcfNet(a, plain, 1, 3).trainBatch([0], [0], [1], 0, 1, 0.1, 'sgd');
    new NcfNet(a, prox, 1, 3, { proximal: { mu: 0, anchor } }).trainBatch([0], [0], [1], 0, 1, 0.1, 'sgd');
    assert.deepEqual(prox.itemGmf, plain.itemGmf);
    assert.deepEqual(prox.itemBias, plain.itemBias);
  });
});

describe('FedProx: the JS and tfjs engines agree at ML-100K size', function () {
  this.timeout(120_000);
  before(async () => {
    await useBestBackend(['wasm', 'cpu']);
  });
  const model = RECSYS_DEFAULTS.model;
  const engines = Object.keys(defaultModelRegistry.get(model).engines);
  const norm = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

  for (const engine of engines) {
    it(`${engine}: μ from the round config reaches the engine and pulls the delta towards the global model`, async () => {
      const deltaWith = async (proximalMu?: number) => {
        const f = await realisticRecommenderFixture(defaultModelRegistry, engine, {
          model,
          optimizer: 'sgd',
          batchSize: 64,
          learningRate: 0.5,
          ...(proximalMu !== undefined ? { proximalMu } : {}),
        })(1);
        return (await f.trainer.fit(f.task(1))).delta;
      };
      const plain = norm(await deltaWith());
      const prox = norm(await deltaWith(1));
      assert.ok(prox < 0.95 * plain, `||delta|| with μ 1 (${prox}) should be clearly below without (${plain})`);
    });
  }
  for (const [optimizer, learningRate, tolerance] of [
    ['sgd', RECSYS_DEFAULTS.federated.clientLr, 1e-5],
    ['adam', RECSYS_DEFAULTS.centralized.learningRate, 1e-3],
  ] as const) {
    const fit = { model, optimizer, batchSize: 64, learningRate, proximalMu: 0.1 };
    enginesAgreeContract(
      `${model} ${optimizer} with μ 0.1`,
      engines.map((engine) => [engine, realisticRecommenderFixture(defaultModelRegistry, engine, fit)]),
      tolerance,
    );
  }
});
