import assert from 'node:assert/strict';
import { DP_EXTRA_KEYS, addGaussianNoise, emptySums, l2NormOf, rowLayout, sharedSize } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol';
import { privatizeUpdate } from '@fedrec/client-sdk/privacy/device-privacy.js';
import { PrivacyGuard } from '@fedrec/coordinator/privacy/privacy-guard.js';
import { PrivacyLedger } from '@fedrec/coordinator/privacy/privacy-ledger.js';
import { DpRoundInput } from '@fedrec/coordinator/privacy/dp-round-input.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import type { FitCollection, FitCollector, FitRoundContext } from '@fedrec/coordinator/fit-collector.js';
import { fitRoundContext } from './fit-round-context.js';

const ITEMS = 5000;
const big: WeightManifest = {
  tensors: [
    { name: 'item_emb', shape: [ITEMS, 4], dtype: 'float32', shared: true, rowwise: true },
    { name: 'bias', shape: [64], dtype: 'float32', shared: true },
  ],
};
const SIZE = sharedSize(big);

function moments(v: ArrayLike<number>, from = 0, to = v.length): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    s += v[i]!;
    s2 += v[i]! * v[i]!;
  }
  const n = to - from;
  const mean = s / n;
  return { mean, std: Math.sqrt(s2 / n - mean * mean) };
}

/** A collector that returns what a round of `accepted` clients that touched no item row would sum to (zeros). */
class ZeroCollector implements FitCollector {
  readonly name = 'zero';
  seen: FitRoundContext | undefined;
  constructor(private readonly accepted: number) {}
  collect(ctx: FitRoundContext): Promise<FitCollection> {
    this.seen = ctx;
    const sums = emptySums(big);
    sums.contributors = this.accepted;
    sums.weightSum = 1234;
    return Promise.resolve({ sums, accepted: Array.from({ length: this.accepted }, (_, i) => `c${i}`), failures: [], metrics: {} });
  }
}

function context(selected: number): FitRoundContext {
  return fitRoundContext(big, selected);
}

function guard(placement: 'central' | 'distributed', noiseMultiplier: number, clipNorm: number): PrivacyGuard {
  return new PrivacyGuard({
    settings: { clipNorm, noiseMultiplier, delta: 1e-5, placement, minSurvivorFraction: 0.8 },
    secureAggregation: placement === 'central' ? 'off' : 'secagg+',
    minResults: 2,
    ledger: new PrivacyLedger(undefined),
    logger: silentLogger,
  });
}

describe('privacy: noise calibration and clipping', () => {
  it('draws Gaussian noise with the asked std and zero mean (CSPRNG source)', () => {
    const v = new Float64Array(200_000);
    addGaussianNoise(v, 0.3);
    const m = moments(v);
    assert.ok(Math.abs(m.std / 0.3 - 1) < 0.01, `std ${m.std}`);
    assert.ok(Math.abs(m.mean) < (4 * 0.3) / Math.sqrt(v.length), `mean ${m.mean}`);
    // The tails are Gaussian ones: about 4.55% beyond 2σ.
    const beyond = v.filter((x) => Math.abs(x) > 0.6).length / v.length;
    assert.ok(Math.abs(beyond - 0.0455) < 0.003, `P(|x| > 2σ) = ${beyond}`);
  });

  it('central: the released sum carries N(0, σ²C²) on every element, rows nobody touched included, over a fixed denominator', async () => {
    const g = guard('central', 1.3, 0.5);
    assert.equal(g.admit(8, 40), undefined);
    const collection = await g.collect(new ZeroCollector(7), context(8), 2);
    const sums = collection.sums;
    const items = moments(sums.weightedDeltaSum, 0, ITEMS * 4);
    assert.ok(Math.abs(items.std / (1.3 * 0.5) - 1) < 0.03, `item rows: std ${items.std}, want ${1.3 * 0.5}`);
    assert.ok(
      sums.weightedDeltaSum.every((x) => x !== 0),
      'every element is noised',
    );
    assert.equal(sums.weightSum, 8, 'the mean divides by the selected count, not by claimed examples');
    assert.ok(sums.rowWeightSums.every((w) => w === 8));
    assert.equal(collection.privacy?.released, true);
    assert.equal(collection.privacy?.sampleRate, 8 / 40);
    assert.ok(collection.privacy!.epsilon > 0);
    assert.equal(g.status().roundsReleased, 1);
  });

  it('distributed: each device is told to add σC/√m with m the calibrated survivor count; fewer survivors are accounted at the lower noise', async () => {
    const g = guard('distributed', 2, 1);
    g.admit(10, 100);
    const inner = new ZeroCollector(6);
    const collection = await g.collect(inner, context(10), 2);
    const m = Math.ceil(0.8 * 10);
    for (const a of inner.seen!.assignments) {
      assert.equal(a.config.extra[DP_EXTRA_KEYS.clipNorm], 1);
      assert.ok(Math.abs(Number(a.config.extra[DP_EXTRA_KEYS.noiseStd]) - 2 / Math.sqrt(m)) < 1e-12);
    }
    assert.ok(
      collection.sums.weightedDeltaSum.every((x) => x === 0),
      'the coordinator adds nothing: the devices did',
    );
    assert.ok(Math.abs(collection.privacy!.noiseMultiplier - 2 * Math.sqrt(6 / m)) < 1e-12);
  });

  it('a round whose collector gave up releases nothing and costs nothing', async () => {
    const g = guard('distributed', 1, 1);
    g.admit(5, 5);
    const failing: FitCollector = {
      name: 'gives-up',
      collect: async () => ({ sums: emptySums(big), accepted: [], failures: [], metrics: {}, abandonReason: 'below threshold' }),
    };
    const c = await g.collect(failing, context(5), 2);
    assert.equal(c.privacy?.released, false);
    assert.equal(g.epsilon, 0);
  });

  it('device: clips the whole update to C, weighs 1, and with a noise share noises every row and marks it', () => {
    const { tables } = rowLayout(big);
    const t = tables[0]!;
    const delta = new Float32Array(SIZE).fill(0.2);
    const rowWeights = new Float32Array(ITEMS);
    for (let r = 0; r < 10; r++) rowWeights[r] = 3 + r;
    const clipped = privatizeUpdate({ delta, numExamples: 77, rowWeights, metrics: {} }, big, { clipNorm: 0.7, noiseStd: 0 });
    assert.ok(Math.abs(l2NormOf(clipped.delta) - 0.7) < 1e-5);
    assert.equal(clipped.numExamples, 1);
    assert.deepEqual(Array.from(clipped.rowWeights!.subarray(0, 12)), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    assert.ok(
      clipped.delta.subarray(t.offset + 10 * t.cols, t.offset + ITEMS * t.cols).every((x) => x === 0),
      'untouched rows carry nothing',
    );

    const noised = privatizeUpdate({ delta, numExamples: 77, rowWeights, metrics: {} }, big, { clipNorm: 0.7, noiseStd: 0.05 });
    assert.ok(
      noised.rowWeights!.every((w) => w === 1),
      'every row goes into the sum, so every row carries noise',
    );
    const untouched = moments(noised.delta, t.offset + 10 * t.cols, t.offset + ITEMS * t.cols);
    assert.ok(Math.abs(untouched.std / 0.05 - 1) < 0.03, `untouched rows: std ${untouched.std}`);
  });

  it('coordinator (central): a hostile update claiming many examples and row weights still adds at most C, with weight 1', () => {
    const input = new DpRoundInput(big, 0.5);
    const delta = new Float32Array(SIZE).fill(3);
    const rowWeights = new Float32Array(ITEMS).fill(0);
    rowWeights[4] = 1e6;
    input.add('evil', { numExamples: 1e6, delta, rowWeights });
    const { sums, clipped } = input.finish();
    assert.equal(clipped, 1);
    assert.equal(sums.weightSum, 1);
    assert.equal(Math.max(...sums.rowWeightSums), 1);
    assert.ok(l2NormOf(sums.weightedDeltaSum) <= 0.5 + 1e-6, `contribution norm ${l2NormOf(sums.weightedDeltaSum)}`);
  });
});
