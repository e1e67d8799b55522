import assert from 'node:assert/strict';
import { RdpAccountant, computeRdp, epsilonFor, epsilonFromRdp, noiseMultiplierFor, rdpOfStep } from '@fedrec/coordinator/privacy/rdp-accountant.js';

const close = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

describe('privacy: RDP accountant of the sampled Gaussian mechanism', () => {
  it("matches TensorFlow Privacy's published MNIST DP-SGD figures (classic RDP→(ε,δ) conversion)", () => {
    // TF Privacy tutorials README: N = 60000, batch 256, δ = 1e-5, steps = ceil(epochs × N / batch):
    // noise 1.1 for 60 epochs → ε = 3.01; noise 0.7 for 45 epochs → ε = 7.10 (compute_dp_sgd_privacy then
    // converted with ε = rdp − log δ / (α − 1)).
    const q = 256 / 60000;
    const e1 = epsilonFromRdp(computeRdp(q, 1.1, Math.ceil((60 * 60000) / 256)), 1e-5, undefined, 'classic').epsilon;
    const e2 = epsilonFromRdp(computeRdp(q, 0.7, Math.ceil((45 * 60000) / 256)), 1e-5, undefined, 'classic').epsilon;
    assert.equal(e1.toFixed(2), '3.01');
    assert.equal(e2.toFixed(2), '7.10');
  });

  it('gives the improved conversion (Balle et al. 2020, as TF Privacy and Opacus use today), never above the classic one', () => {
    // Reference values from a line-by-line Python transcription of rdp_accountant.py run on scipy 1.17
    // (special.binom, special.log_ndtr), orders 1.1..10.9, 12..63, 128..1024.
    const cases: Array<[number, number, number, number]> = [
      [256 / 60000, 1.1, 14063, 2.5966555286883],
      [256 / 60000, 0.7, 10547, 6.3183839653376],
      [0.01, 1.0, 1000, 2.1013652716431],
      [0.1, 2.0, 100, 2.5805688086609],
      [1.0, 5.0, 10, 2.8136532471298],
    ];
    for (const [q, sigma, steps, expected] of cases) {
      const rdp = computeRdp(q, sigma, steps);
      const improved = epsilonFromRdp(rdp, 1e-5).epsilon;
      close(improved, expected, 1e-9, `q=${q} σ=${sigma} T=${steps}`);
      assert.ok(improved <= epsilonFromRdp(rdp, 1e-5, undefined, 'classic').epsilon);
    }
  });

  it('computes single-step RDP at integer and fractional orders like the reference, and α/(2σ²) without sampling', () => {
    const expected: Array<[number, number]> = [
      [1.5, 0.00012725374351154145],
      [2, 0.00017181342207453428],
      [3.7, 0.0003329356254202168],
      [10, 0.03827041889494864],
      [32, 11.246275937048072],
    ];
    for (const [order, value] of expected) close(rdpOfStep(0.01, 1, order), value, 1e-9, `order ${order}`);
    close(rdpOfStep(1, 2, 8), 8 / (2 * 4), 1e-15, 'no subsampling');
    assert.equal(rdpOfStep(0, 1, 8), 0);
  });

  it('composes additively: the accountant over mixed rounds equals the sum of each round’s RDP, and grows with rounds', () => {
    const acc = new RdpAccountant();
    acc.spend(0.1, 1.0);
    acc.spend(0.2, 1.5);
    const direct = computeRdp(0.1, 1.0, 1).map((r, k) => r + computeRdp(0.2, 1.5, 1)[k]!);
    close(acc.epsilon(1e-5), epsilonFromRdp(direct, 1e-5).epsilon, 1e-12, 'composition');
    const before = acc.epsilon(1e-5);
    assert.ok(acc.epsilonAfter(0.1, 1.0, 1e-5) > before);
    assert.equal(acc.epsilon(1e-5), before, 'epsilonAfter does not spend');
    const restored = new RdpAccountant();
    restored.restore(acc.state());
    assert.equal(restored.epsilon(1e-5), before);
    assert.equal(restored.steps, 2);
    assert.throws(() => restored.restore({ ...acc.state(), rdp: [-1] }), /invalid RDP/);
  });

  it('finds the noise multiplier for a target epsilon', () => {
    for (const target of [1, 4, 8]) {
      const sigma = noiseMultiplierFor(target, 0.1, 50, 1e-5);
      assert.ok(epsilonFor(0.1, sigma, 50, 1e-5) <= target);
      assert.ok(epsilonFor(0.1, sigma * 0.99, 50, 1e-5) > target, `σ ${sigma} is not the smallest for ε ${target}`);
    }
  });
});
