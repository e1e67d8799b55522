import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import type { RoundRecord } from '@fedrec/coordinator';
import { DEFAULT_TRAINING_CONFIG, clipL2InPlace, rowLayout } from '@fedrec/protocol';
import { manifest, startCoordinator, stopAll } from '../coordinator/helpers.js';
import { DeterministicTrainer } from './fixtures/deterministic-trainer.js';

const clientsOpen: FederatedClient[] = [];

describe('end to end: distributed DP under secure aggregation, with a dropout', function () {
  this.timeout(60_000);
  afterEach(async () => {
    await Promise.all(clientsOpen.splice(0).map((c) => c.close()));
    await stopAll();
  });

  for (const mode of ['secagg', 'secagg+'] as const) {
    it(`${mode}: one client drops after share-keys; the round commits with every element noised and is accounted at the noise it had`, async () => {
      const n = 7;
      const clipNorm = 0.5;
      const sigma = 0.8;
      const { coordinator, url } = await startCoordinator({
        minClients: n,
        minResults: 3,
        rounds: 1,
        roundTimeoutMs: 10_000,
        secureAggregation: mode,
        // Weights are 1 under DP: maxWeight 1 keeps the quantization step small.
        secAgg: { maxWeight: 1, quantizationBits: 24, advertiseTimeoutMs: 4_000, shareKeysTimeoutMs: 4_000, unmaskTimeoutMs: 4_000 },
        trainingConfig: DEFAULT_TRAINING_CONFIG,
        privacy: { clipNorm, noiseMultiplier: sigma, minSurvivorFraction: 0.5 },
      });
      const before = Float32Array.from(coordinator.currentWeights().body);
      const committed = new Promise<RoundRecord>((resolve) => coordinator.once('round:committed', resolve));
      const trainers = Array.from({ length: n }, (_, i) => new DeterministicTrainer(i));
      const clients = trainers.map((trainer, i) =>
        createFederatedClient({ url, clientId: `dev-${i}`, trainer, backend: false, reconnect: { enabled: false } }),
      );
      clientsOpen.push(...clients);
      // dev-0 leaves after its shares went out: it never sends its masked (and noised) input.
      clients[0]!.on('secagg:stage', (p) => {
        if (p.stage === 'share-keys') setTimeout(() => void clients[0]!.close(), 0);
      });
      await Promise.all(clients.map((c) => c.connect()));
      const record = await committed;

      assert.equal(record.participants.length, n - 1);
      assert.ok(!record.participants.includes('dev-0'));
      const p = record.privacy!;
      assert.equal(p.placement, 'distributed');
      assert.equal(p.released, true);
      assert.equal(p.contributors, n - 1);
      // Calibrated for m = max(minResults, ceil(0.5 × 7)) = 4 survivors; 6 came: σ_eff = σ·√(6/4).
      assert.ok(Math.abs(p.noiseMultiplier - sigma * Math.sqrt(6 / 4)) < 1e-12, `σ_eff ${p.noiseMultiplier}`);
      assert.ok(p.epsilon > 0 && coordinator.status().privacy!.epsilon === p.epsilon);

      // What the noiseless DP mean would have been: each participant's delta (untouched rows zeroed) clipped to C, summed, / selected.
      const mean = new Float64Array(before.length);
      const { tables } = rowLayout(manifest);
      for (const id of record.participants) {
        const fit = trainers[Number(id.slice(4))]!.sent[0]!;
        const d = Float32Array.from(fit.delta);
        for (const t of tables)
          for (let r = 0; r < t.rows; r++) if (!(fit.rowWeights![t.rowWeightOffset + r]! > 0)) d.fill(0, t.offset + r * t.cols, t.offset + (r + 1) * t.cols);
        clipL2InPlace(d, clipNorm);
        for (let i = 0; i < d.length; i++) mean[i]! += d[i]! / n;
      }
      const after = coordinator.currentWeights().body;
      const residual = Array.from(after, (w, i) => w - before[i]! - mean[i]!);
      // Every element moved by noise, rows nobody touched included (a row without noise would say nobody touched it).
      assert.ok(
        residual.every((x) => Math.abs(x) > 1e-6),
        `residuals ${residual.map((x) => x.toFixed(4)).join(' ')}`,
      );
      // Its scale is the sum's noise over the fixed denominator: σ_eff·C / n per element (12 draws: a loose band).
      const rms = Math.sqrt(residual.reduce((s, x) => s + x * x, 0) / residual.length);
      const expected = (p.noiseMultiplier * clipNorm) / n;
      assert.ok(rms > expected / 3 && rms < expected * 3, `noise rms ${rms}, expected about ${expected}`);
    });
  }
});
