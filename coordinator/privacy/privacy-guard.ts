import { withDeviceDp } from '@fedrec/protocol';
import { releaseDpSums } from './dp-sums.js';
import type { ByteSource, SecAggMode } from '@fedrec/protocol';
import type { FitCollection, FitCollector, FitRoundContext } from '../fit-collector.js';
import type { Logger } from '../logger.js';
import { AdaptiveClip, countStddevFor, valueNoiseMultiplier } from './adaptive-clip.js';
import { DpRoundInput } from './dp-round-input.js';
import type { DpSettings } from './privacy-options.js';
import type { PrivacyLedger } from './privacy-ledger.js';
import { RdpAccountant } from './rdp-accountant.js';
import type { PrivacyStatus, RoundPrivacy } from './round-privacy.js';

export type { PrivacyStatus, RoundPrivacy } from './round-privacy.js';

export interface PrivacyGuardDeps {
  settings: DpSettings;
  secureAggregation: SecAggMode;
  minResults: number;
  ledger: PrivacyLedger;
  logger: Logger;
  /** The noise source (tests pass a seeded one); default the platform CSPRNG. */
  randomBytes?: ByteSource;
}

/**
 * DP-FedAvg around the fit collector, plus the accountant and the budget halt.
 *
 * Per round: admit() checks the budget with the real sampling rate (selected / connected) before any task
 * goes out; collect() tells each device to clip (and, distributed, to add its noise share), runs the
 * collector, then releases the sum: central noise N(0, σ²C²) on EVERY element (plain mode), and a fixed
 * denominator (the selected count) for every element, so the average says nothing about which rows or how
 * many examples anyone had. The accountant counts a round exactly when a noisy sum came out of it.
 */
export class PrivacyGuard {
  readonly placement: 'central' | 'distributed';
  private readonly accountant = new RdpAccountant();
  /** The clip norm's state under adaptive clipping (undefined: fixed at settings.clipNorm). */
  private readonly adaptive: AdaptiveClip | undefined;
  private pendingRate: number | undefined;
  private haltReason: string | null = null;

  constructor(private readonly deps: PrivacyGuardDeps) {
    const p = deps.settings.placement;
    this.placement = p === 'auto' ? (deps.secureAggregation === 'off' ? 'central' : 'distributed') : p;
    if (deps.settings.adaptiveClip) {
      if (this.placement === 'distributed' && deps.secureAggregation === 'off') {
        // Plain mode counts the bits from the updates that arrive, and device noise would blur their norms; the
        // devices' own bits travel only in the masked vector (secure aggregation).
        throw new TypeError(
          'invalid coordinator options: adaptive DP clipping with distributed noise needs secure aggregation (the clipping bits travel in the masked sum); ' +
            'in plain mode use central noise',
        );
      }
      this.adaptive = new AdaptiveClip(deps.settings.adaptiveClip, deps.settings.clipNorm);
    }
    if (this.placement === 'distributed' && deps.secureAggregation === 'off') {
      // Not wrong, only pointless: the coordinator opens each noisy update, and each carries less noise than the sum.
      deps.logger.warn({}, 'distributed DP noise without secure aggregation: each opened update is only lightly noised');
    }
  }

  async load(): Promise<void> {
    const s = await this.deps.ledger.load();
    if (s) this.accountant.restore(s);
    // An adaptive clip norm resumes where it was: restarting from the initial one would redo the adaptation.
    if (s?.clipNorm !== undefined) this.adaptive?.restore(s.clipNorm);
  }

  /** The clip norm the next round uses (adaptive clipping moves it; fixed otherwise). */
  get clipNorm(): number {
    return this.adaptive?.clipNorm ?? this.deps.settings.clipNorm;
  }

  get epsilon(): number {
    return this.accountant.epsilon(this.deps.settings.delta);
  }

  /** Why training stopped for privacy, or undefined while it may go on. */
  get halted(): string | undefined {
    return this.haltReason ?? undefined;
  }

  /**
   * Before a round's tasks go out: undefined when it may run, else the reason it may not (and the guard
   * stays halted). The check assumes the round releases with the configured noise multiplier.
   */
  admit(selected: number, eligible: number): string | undefined {
    if (this.haltReason) return this.haltReason;
    const { noiseMultiplier, delta, epsilonBudget } = this.deps.settings;
    const q = eligible > 0 ? Math.min(1, selected / eligible) : 1;
    this.pendingRate = q;
    if (epsilonBudget === undefined) return undefined;
    const next = this.accountant.epsilonAfter(q, noiseMultiplier, delta);
    if (next <= epsilonBudget) return undefined;
    this.haltReason =
      `privacy budget: the next round would bring epsilon from ${this.epsilon.toFixed(3)} to ${next.toFixed(3)} ` +
      `(delta ${delta}), above the budget of ${epsilonBudget}; training stopped`;
    return this.haltReason;
  }

  /** Runs one round's collection under DP. */
  async collect(inner: FitCollector, ctx: FitRoundContext, minResults: number): Promise<FitCollection> {
    const { noiseMultiplier, minSurvivorFraction, adaptiveClip } = this.deps.settings;
    const clipNorm = this.clipNorm;
    const selected = ctx.assignments.length;
    // Adaptive clipping spends z on the value sum and the count together: the value sum gets z_v ≥ z.
    const countStddev = adaptiveClip ? countStddevFor(adaptiveClip, selected, noiseMultiplier) : 0;
    const valueNoise = adaptiveClip ? valueNoiseMultiplier(noiseMultiplier, countStddev) : noiseMultiplier;
    const q = this.pendingRate ?? 1;
    this.pendingRate = undefined;
    const distributed = this.placement === 'distributed';
    const calibratedFor = distributed ? Math.min(selected, Math.max(minResults, Math.ceil(minSurvivorFraction * selected))) : selected;
    // Distributed: each device adds its share of the value noise (z_v under adaptive clipping, z otherwise).
    const noiseStd = distributed ? (valueNoise * clipNorm) / Math.sqrt(calibratedFor) : 0;
    // Under secure aggregation the clipping bits can only come from the devices, in the masked vector: each adds
    // its share of the count noise (distributed) or none (central: AdaptiveClip.step adds σ_b to the count).
    const maskedBits = adaptiveClip !== undefined && this.deps.secureAggregation !== 'off';
    const clipBitStd = maskedBits ? (distributed ? countStddev / Math.sqrt(calibratedFor) : 0) : undefined;
    const assignments = ctx.assignments.map((a) => ({ ...a, config: withDeviceDp(a.config, { clipNorm, noiseStd, clipBitStd }) }));
    // Plain mode: the coordinator clips again (and ignores claimed weights); secure aggregation ignores it.
    const dpInput = ctx.roundInput ? new DpRoundInput(ctx.global.manifest, clipNorm) : undefined;
    const collection = await inner.collect({ ...ctx, assignments, ...(dpInput ? { roundInput: dpInput } : {}) });
    const contributors = collection.sums.contributors;
    const base = { delta: this.deps.settings.delta, sampleRate: q, clipNorm, placement: this.placement, contributors };
    // Nothing released: the collector gave up (secure aggregation below its threshold: the sum cannot be
    // unmasked), or, with central noise, too few results for the engine to commit (no noisy sum is made).
    const released = collection.abandonReason === undefined && (distributed ? contributors > 0 : collection.accepted.length >= minResults);
    if (!released) return { ...collection, privacy: { ...base, released: false, epsilon: this.epsilon, noiseMultiplier: 0 } };

    const sums = collection.sums;
    let effective = noiseMultiplier;
    if (distributed) {
      // k devices each added N(0, σ²C²/m): the sum holds N(0, σ²C²·k/m).
      effective = noiseMultiplier * Math.sqrt(contributors / calibratedFor);
      if (contributors < calibratedFor) {
        this.deps.logger.warn(
          { roundId: ctx.roundId, contributors, calibratedFor, noiseMultiplier: effective },
          'fewer survivors than the noise was calibrated for: the round is accounted at its lower noise',
        );
      }
    }
    // Central: the coordinator's noise on every element; both: the fixed denominator (the selected count).
    releaseDpSums(sums, distributed ? 0 : valueNoise * clipNorm, selected, this.deps.randomBytes);
    let adaptive: RoundPrivacy['adaptiveClip'];
    if (this.adaptive) {
      let unclippedFraction: number;
      if (maskedBits) {
        // Σ(b − 1/2) over the contributors (noised by them when distributed); a selected client whose input is not in
        // the sum counts as clipped (b = 0), as in plain mode, so the shifted count is over the selected clients.
        if (collection.clipBitSum === undefined) throw new Error('adaptive clipping under secure aggregation: the collector returned no clipping-bit sum');
        const shifted = collection.clipBitSum - (selected - contributors) / 2;
        unclippedFraction = this.adaptive.stepShifted(shifted, selected, distributed ? 0 : countStddev, this.deps.randomBytes);
      } else {
        if (!dpInput) throw new Error('adaptive clipping without the plain round input');
        unclippedFraction = this.adaptive.step(dpInput.unclipped, selected, countStddev, this.deps.randomBytes);
      }
      adaptive = { valueNoiseMultiplier: valueNoise, countStddev, unclippedFraction, nextClipNorm: this.adaptive.clipNorm };
    }
    this.accountant.spend(q, effective);
    await this.deps.ledger.save({ ...this.accountant.state(), ...(this.adaptive ? { clipNorm: this.adaptive.clipNorm } : {}) });
    return {
      ...collection,
      privacy: { ...base, released: true, epsilon: this.epsilon, noiseMultiplier: effective, ...(adaptive ? { adaptiveClip: adaptive } : {}) },
    };
  }

  status(): PrivacyStatus {
    const s = this.deps.settings;
    return {
      placement: this.placement,
      clipNorm: this.clipNorm,
      ...(s.adaptiveClip ? { adaptiveClip: { targetQuantile: s.adaptiveClip.targetQuantile, learningRate: s.adaptiveClip.learningRate } } : {}),
      noiseMultiplier: s.noiseMultiplier,
      delta: s.delta,
      epsilon: this.epsilon,
      epsilonBudget: s.epsilonBudget ?? null,
      roundsReleased: this.accountant.steps,
      halted: this.haltReason,
    };
  }
}
