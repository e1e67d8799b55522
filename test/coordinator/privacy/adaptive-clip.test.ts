import assert from 'node:assert/strict';
import { sharedSize } from '@fedrec/protocol';
import type { ByteSource, WeightManifest } from '@fedrec/protocol';
import type { RoundRecord } from '@fedrec/coordinator';
import { AdaptiveClip, valueNoiseMultiplier } from '@fedrec/coordinator/privacy/adaptive-clip.js';
import { DpRoundInput } from '@fedrec/coordinator/privacy/dp-round-input.js';
import { PrivacyGuard } from '@fedrec/coordinator/privacy/privacy-guard.js';
import { PrivacyLedger } from '@fedrec/coordinator/privacy/privacy-ledger.js';
import { RdpAccountant } from '@fedrec/coordinator/privacy/rdp-accountant.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import type { FitCollection, FitCollector, FitRoundContext } from '@fedrec/coordinator/fit-collector.js';
import { fitRoundContext } from './fit-round-context.js';
import { RoundInput } from '@fedrec/coordinator/strategy/round-input.js';
import { UpdatePolicy } from '@fedrec/coordinator/strategy/update-policy.js';
import { SHARED, connectFakeClient, constantUpdate, next, startCoordinator, stopAll } from '../helpers.js';
import type { FakeClient } from '../helpers.js';

/** A seeded byte source (xorshift32), so the noisy steps below are the same on every run. */
function seededBytes(seed: number): ByteSource {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/** Standard normals from a seeded source (Box–Muller). */
function normals(seed: number): () => number {
  const bytes = seededBytes(seed);
  return () => {
    const b = bytes(8);
    const u1 = (new DataView(b.buffer).getUint32(0) + 1) / 4294967297;
    const u2 = new DataView(b.buffer).getUint32(4) / 4294967296;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}

const ITEMS = 2000;
const big: WeightManifest = { tensors: [{ name: 'item_emb', shape: [ITEMS, 4], dtype: 'float32', shared: true, rowwise: true }] };

/** A collector that hands each selected client's update to the round input it is given, as the plain collector does. */
class InputCollector implements FitCollector {
  readonly name = 'input';
  constructor(private readonly norms: number[]) {}
  collect(ctx: FitRoundContext): Promise<FitCollection> {
    const input = ctx.roundInput!;
    this.norms.forEach((norm, i) => {
      const delta = new Float32Array(sharedSize(big));
      delta[i] = norm; // one element: the update's norm is exactly `norm`
      input.add(`c${i}`, { numExamples: 1, delta, rowWeights: new Float32Array(ITEMS).fill(1) });
    });
    const { sums } = input.finish();
    return Promise.resolve({ sums, accepted: this.norms.map((_, i) => `c${i}`), failures: [], metrics: {} });
  }
}

function context(selected: number): FitRoundContext {
  const roundInput = new RoundInput(big, new UpdatePolicy({ normBound: 'off', weightCap: 'off', rowNormBound: 'off' }), false);
  return fitRoundContext(big, selected, { roundInput });
}

function adaptiveGuard(z: number, countStddev: number, clipNorm = 1, secureAggregation: 'off' | 'secagg+' = 'off'): PrivacyGuard {
  return new PrivacyGuard({
    settings: {
      clipNorm,
      noiseMultiplier: z,
      delta: 1e-5,
      placement: 'auto',
      minSurvivorFraction: 0.8,
      adaptiveClip: { targetQuantile: 0.5, learningRate: 0.2, countStddev },
    },
    secureAggregation,
    minResults: 1,
    ledger: new PrivacyLedger(undefined),
    logger: silentLogger,
    randomBytes: seededBytes(99),
  });
}

describe('privacy: adaptive clipping (Andrew et al. 2021)', function () {
  this.timeout(60_000);

  it('the clip norm converges to the target quantile of a log-normal norm distribution (noised counts, 100 clients a round)', () => {
    // Norms exp(N(μ, s²)): the q-quantile is exp(μ + s·Φ^-1(q)).
    const mu = Math.log(2);
    const s = 0.5;
    const quantileOf = { 0.5: Math.exp(mu), 0.9: Math.exp(mu + s * 1.2815515655446004) };
    for (const target of [0.5, 0.9] as const) {
      const draw = normals(target === 0.5 ? 1 : 2);
      const clip = new AdaptiveClip({ targetQuantile: target, learningRate: 0.2 }, 0.1); // start 20x too small
      const bytes = seededBytes(7);
      const m = 100;
      const late: number[] = [];
      for (let round = 0; round < 300; round++) {
        let unclipped = 0;
        for (let i = 0; i < m; i++) if (Math.exp(mu + s * draw()) <= clip.clipNorm) unclipped += 1;
        clip.step(unclipped, m, m / 20, bytes);
        if (round >= 200) late.push(clip.clipNorm);
      }
      const mean = late.reduce((a, b) => a + b, 0) / late.length;
      // The fraction of the distribution below the clip norm the process settled at: within 0.06 of the target.
      const cdf = 0.5 * (1 + erf((Math.log(mean) - mu) / (s * Math.SQRT2)));
      assert.ok(
        Math.abs(cdf - target) < 0.06,
        `target ${target}: clip ${mean.toFixed(3)} (true quantile ${quantileOf[target].toFixed(3)}) covers ${cdf.toFixed(3)}`,
      );
    }
  });

  it('the value sum gets z_v = (z^-2 − (2σ_b)^-2)^-1/2 while the accountant spends the combined z', async () => {
    const z = 1.2;
    const sigmaB = 1;
    const zv = valueNoiseMultiplier(z, sigmaB);
    assert.ok(Math.abs(zv - 1 / Math.sqrt(z ** -2 - 0.25)) < 1e-12);
    assert.ok(zv > z);
    const g = adaptiveGuard(z, sigmaB, 0.5);
    assert.equal(g.admit(4, 40), undefined);
    // Two updates below the clip norm (0.1, 0.3), two above (0.9, 5): the bits come from what arrived.
    const collection = await g.collect(new InputCollector([0.1, 0.3, 0.9, 5]), context(4), 1);
    const p = collection.privacy!;
    assert.equal(p.released, true);
    assert.equal(p.noiseMultiplier, z, 'the round is accounted at the combined z');
    const reference = new RdpAccountant();
    reference.spend(4 / 40, z);
    assert.ok(Math.abs(p.epsilon - reference.epsilon(1e-5)) < 1e-12, `ε ${p.epsilon} vs ${reference.epsilon(1e-5)}`);
    const withValueNoise = new RdpAccountant();
    withValueNoise.spend(4 / 40, zv);
    assert.ok(p.epsilon > withValueNoise.epsilon(1e-5), 'not at the value query alone: the count spends too');
    assert.equal(p.adaptiveClip?.valueNoiseMultiplier, zv);
    assert.equal(p.adaptiveClip?.countStddev, sigmaB);
    // Empirical std of the released sum's noise: z_v·C on every element (the clipped updates touch 4 of 8,000).
    const v = collection.sums.weightedDeltaSum;
    let s2 = 0;
    for (let i = 4; i < v.length; i++) s2 += v[i]! * v[i]!;
    const std = Math.sqrt(s2 / (v.length - 4));
    assert.ok(Math.abs(std / (zv * 0.5) - 1) < 0.03, `noise std ${std}, want ${zv * 0.5}`);
    // The clip norm stepped geometrically from the noised fraction; the next round clips at it.
    const f = p.adaptiveClip!.unclippedFraction;
    assert.ok(Math.abs(p.adaptiveClip!.nextClipNorm - 0.5 * Math.exp(-0.2 * (f - 0.5))) < 1e-12);
    assert.equal(g.clipNorm, p.adaptiveClip!.nextClipNorm);
    assert.equal(g.status().clipNorm, p.adaptiveClip!.nextClipNorm);
  });

  it('counts the bits from what arrived: a clipped update (norm C after the device clipped) is not counted unclipped', () => {
    const input = new DpRoundInput(big, 0.5);
    assert.equal(input.canStream(), false, 'every update goes through add(): weights 1 and its bit');
    const at = (norm: number) => {
      const delta = new Float32Array(sharedSize(big));
      delta[0] = norm * 0.6;
      delta[1] = norm * 0.8;
      return { numExamples: 9, delta, rowWeights: new Float32Array(ITEMS).fill(1) };
    };
    input.add('below', at(0.3));
    input.add('clipped-on-device', at(0.5));
    input.add('above', at(2));
    assert.equal(input.unclipped, 1);
  });

  it('refuses what it cannot do: distributed noise in plain mode (no masked bits), and a count noise too small for z', () => {
    assert.doesNotThrow(() => adaptiveGuard(1, 1, 1, 'secagg+'), 'under secure aggregation the devices mask their bits');
    const settings = { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, placement: 'distributed' as const, minSurvivorFraction: 0.8 };
    const deps = { secureAggregation: 'off' as const, minResults: 1, ledger: new PrivacyLedger(undefined), logger: silentLogger };
    assert.throws(
      () => new PrivacyGuard({ ...deps, settings: { ...settings, adaptiveClip: { targetQuantile: 0.5, learningRate: 0.2 } } }),
      /adaptive DP clipping with distributed noise needs secure aggregation/,
    );
    assert.throws(() => valueNoiseMultiplier(2, 1), /2σ_b > z/);
  });

  describe('one end-to-end round over Socket.IO', () => {
    const open: FakeClient[] = [];
    afterEach(async () => {
      open.splice(0).forEach((c) => c.close());
      await stopAll();
    });

    it('plain mode: devices are told the current clip norm, and the next round clips at the adapted one', async () => {
      const privacy = { clipNorm: 0.2, noiseMultiplier: 0.5, adaptiveClip: { targetQuantile: 0.5, learningRate: 0.5 } };
      const { coordinator, url } = await startCoordinator({ minClients: 3, minResults: 3, rounds: 2, secureAggregation: 'off', privacy });
      const committed: RoundRecord[] = [];
      coordinator.on('round:committed', (r) => committed.push(r));
      const finished = next(coordinator, 'training:finished', 45_000);
      const told = new Map<number, number[]>();
      // Every update's norm (0.5·√SHARED) is above the first clip norm: no bit is 1.
      for (const id of ['a', 'b', 'c']) {
        open.push(
          await connectFakeClient(url, {
            clientId: id,
            fit: (task) => {
              told.set(task.roundId, [...(told.get(task.roundId) ?? []), Number(task.config.extra['dp.clipNorm'])]);
              return { kind: 'update', payload: constantUpdate(0.5, 1) };
            },
          }),
        );
      }
      await finished;
      assert.ok(0.5 * Math.sqrt(SHARED) > 0.2);
      assert.equal(committed.length, 2);
      const [first, second] = committed.map((r) => r.privacy!);
      assert.equal(first!.clipNorm, 0.2);
      const [round1, round2] = [...told.values()];
      assert.deepEqual(round1, [0.2, 0.2, 0.2]);
      assert.equal(second!.clipNorm, first!.adaptiveClip!.nextClipNorm);
      assert.notEqual(second!.clipNorm, 0.2);
      assert.deepEqual(round2, [second!.clipNorm, second!.clipNorm, second!.clipNorm]);
      // σ_b = max(3/20, z) = z: z_v = z/√(1 − 1/4).
      assert.ok(Math.abs(first!.adaptiveClip!.valueNoiseMultiplier - 0.5 / Math.sqrt(0.75)) < 1e-12);
      assert.equal(first!.noiseMultiplier, 0.5);
      assert.ok(first!.epsilon > 0 && second!.epsilon > first!.epsilon);
    });
  });
});

/** erf, Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough to read a normal CDF here. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
