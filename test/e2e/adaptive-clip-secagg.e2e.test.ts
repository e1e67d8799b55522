import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient, type FitOutcome, type TaskContext, type Trainer } from '@fedrec/client-sdk';
import type { RoundRecord } from '@fedrec/coordinator';
import { valueNoiseMultiplier } from '@fedrec/coordinator/privacy/adaptive-clip.js';
import { DEFAULT_TRAINING_CONFIG, rowWeightsSize, sharedSize } from '@fedrec/protocol';
import { startCoordinator, stopAll } from '../coordinator/helpers.js';

/** A trainer whose update has a chosen L2 norm (every element equal), and which records the DP settings it was given. */
class NormTrainer implements Trainer {
  readonly told: Array<Record<string, unknown>> = [];
  constructor(private readonly norm: number) {}
  async fit(ctx: TaskContext): Promise<FitOutcome> {
    this.told.push({ ...ctx.config.extra });
    const n = sharedSize(ctx.global.manifest);
    // Every row touched (weight > 0): the device zeroes untouched rows before it measures the norm.
    const rowWeights = new Float32Array(rowWeightsSize(ctx.global.manifest)).fill(2);
    return { delta: new Float32Array(n).fill(this.norm / Math.sqrt(n)), numExamples: 5, rowWeights, metrics: {} };
  }
  async evaluate(): Promise<{ numExamples: number; metrics: Record<string, number> }> {
    return { numExamples: 1, metrics: {} };
  }
}

// Four of six updates have a norm ≤ the clip norm 1: the unclipped fraction is 2/3, above the target 1/2, so C shrinks
// by exp(−η(2/3 − 1/2)). The noise is tiny (z = 0.001, σ_b = 0.001) so both modes must land on that step.
const NORMS = [0.2, 0.5, 0.8, 0.95, 1.5, 4];
const Z = 0.001;
const SIGMA_B = 0.001;
const ETA = 0.5;
const expectedNext = Math.exp(-ETA * (4 / 6 - 0.5));

async function oneRound(secureAggregation: 'off' | 'secagg+'): Promise<{ record: RoundRecord; trainers: NormTrainer[] }> {
  const { coordinator, url } = await startCoordinator({
    secureAggregation,
    privacy: { clipNorm: 1, noiseMultiplier: Z, adaptiveClip: { targetQuantile: 0.5, learningRate: ETA, countStddev: SIGMA_B } },
    minClients: NORMS.length,
    minResults: NORMS.length,
    clientsPerRound: NORMS.length,
    rounds: 1,
    roundTimeoutMs: 60_000,
    secAgg: { advertiseTimeoutMs: 20_000, shareKeysTimeoutMs: 20_000, unmaskTimeoutMs: 20_000 },
    trainingConfig: DEFAULT_TRAINING_CONFIG,
  });
  const committed = new Promise<RoundRecord>((resolve, reject) => {
    coordinator.once('round:committed', resolve);
    coordinator.once('round:abandoned', (r) => reject(new Error(`round abandoned: ${r.abandonReason}; ${JSON.stringify(r.failures).slice(0, 1500)}`)));
  });
  const trainers = NORMS.map((norm) => new NormTrainer(norm));
  const clients: FederatedClient[] = trainers.map((trainer, i) =>
    createFederatedClient({ url, clientId: `dev-${i}`, trainer, backend: false, reconnect: { enabled: false } }),
  );
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return { record: await committed, trainers };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await stopAll();
  }
}

/**
 * Adaptive clipping under secure aggregation, end to end: real SDK devices over Socket.IO mask their clipping bits
 * (client-sdk/privacy), the coordinator unmasks only Σ(b − 1/2) and steps the clip norm as plain mode does from the
 * updates it opens.
 */
describe('end to end: adaptive DP clipping under secagg+ moves the clip norm as plain mode does', function () {
  this.timeout(120_000);
  afterEach(stopAll);

  it('same norms, same step in both modes; under secagg+ the devices noise the value sum with z_v and the accountant spends z', async () => {
    const plain = await oneRound('off');
    const masked = await oneRound('secagg+');
    const p = plain.record.privacy!;
    const s = masked.record.privacy!;
    assert.equal(p.placement, 'central');
    assert.equal(s.placement, 'distributed');
    for (const r of [p, s]) {
      assert.equal(r.released, true);
      assert.equal(r.contributors, NORMS.length);
      assert.ok(Math.abs(r.adaptiveClip!.unclippedFraction - 4 / 6) < 0.01, `fraction ${r.adaptiveClip!.unclippedFraction}`);
      assert.ok(Math.abs(r.adaptiveClip!.nextClipNorm / expectedNext - 1) < 0.005, `next clip ${r.adaptiveClip!.nextClipNorm} vs ${expectedNext}`);
    }
    assert.ok(Math.abs(s.adaptiveClip!.nextClipNorm / p.adaptiveClip!.nextClipNorm - 1) < 0.005);
    // The value sum carries z_v; the accountant spends the combined z (scaled by √(k/m) as any distributed round).
    const zv = valueNoiseMultiplier(Z, SIGMA_B);
    assert.equal(s.adaptiveClip!.valueNoiseMultiplier, zv);
    // The noise is calibrated for m = min(selected, max(minResults, ⌈0.8·selected⌉)) devices (privacy-guard.ts): 6 here.
    const m = Math.min(NORMS.length, Math.max(NORMS.length, Math.ceil(0.8 * NORMS.length)));
    assert.ok(Math.abs(s.noiseMultiplier - Z * Math.sqrt(NORMS.length / m)) < 1e-12, `accounted at ${s.noiseMultiplier}`);
    assert.equal(p.noiseMultiplier, Z);
    // What each secagg+ device was told: its share of the value noise at z_v, and of the count noise.
    for (const t of masked.trainers) {
      assert.ok(Math.abs(Number(t.told[0]!['dp.noiseStd']) - (zv * 1) / Math.sqrt(m)) < 1e-12);
      assert.ok(Math.abs(Number(t.told[0]!['dp.clipBitStd']) - SIGMA_B / Math.sqrt(m)) < 1e-12);
    }
    // Plain devices are asked for no bit: the coordinator counts it from what arrives.
    for (const t of plain.trainers) assert.equal(t.told[0]!['dp.clipBitStd'], undefined);
  });
});
