import { withDeviceDp } from '@fedrec/protocol';
import { releaseDpSums } from './dp-sums.js';
import type { ByteSource, SecAggMode } from '@fedrec/protocol';
import type { FitCollection, FitCollector, FitRoundContext } from '../fit-collector.js';
import type { Logger } from '../logger.js';
import { DpRoundInput } from './dp-round-input.js';
import type { DpSettings } from './privacy-options.js';
import type { PrivacyLedger } from './privacy-ledger.js';
import { RdpAccountant } from './rdp-accountant.js';
import type { PrivacyStatus } from './round-privacy.js';

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
  private pendingRate: number | undefined;
  private haltReason: string | null = null;

  constructor(private readonly deps: PrivacyGuardDeps) {
    const p = deps.settings.placement;
    this.placement = p === 'auto' ? (deps.secureAggregation === 'off' ? 'central' : 'distributed') : p;
    if (this.placement === 'distributed' && deps.secureAggregation === 'off') {
      // Not wrong, only pointless: the coordinator opens each noisy update, and each carries less noise than the sum.
      deps.logger.warn({}, 'distributed DP noise without secure aggregation: each opened update is only lightly noised');
    }
  }

  async load(): Promise<void> {
    const s = await this.deps.ledger.load();
    if (s) this.accountant.restore(s);
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
    const { clipNorm, noiseMultiplier, minSurvivorFraction } = this.deps.settings;
    const selected = ctx.assignments.length;
    const q = this.pendingRate ?? 1;
    this.pendingRate = undefined;
    const distributed = this.placement === 'distributed';
    const calibratedFor = distributed ? Math.min(selected, Math.max(minResults, Math.ceil(minSurvivorFraction * selected))) : selected;
    const noiseStd = distributed ? (noiseMultiplier * clipNorm) / Math.sqrt(calibratedFor) : 0;
    const assignments = ctx.assignments.map((a) => ({ ...a, config: withDeviceDp(a.config, { clipNorm, noiseStd }) }));
    const collection = await inner.collect({
      ...ctx,
      assignments,
      // Plain mode: the coordinator clips again (and ignores claimed weights); secure aggregation ignores it.
      ...(ctx.roundInput ? { roundInput: new DpRoundInput(ctx.global.manifest, clipNorm) } : {}),
    });
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
    releaseDpSums(sums, distributed ? 0 : noiseMultiplier * clipNorm, selected, this.deps.randomBytes);
    this.accountant.spend(q, effective);
    await this.deps.ledger.save(this.accountant.state());
    return { ...collection, privacy: { ...base, released: true, epsilon: this.epsilon, noiseMultiplier: effective } };
  }

  status(): PrivacyStatus {
    const s = this.deps.settings;
    return {
      placement: this.placement,
      clipNorm: s.clipNorm,
      noiseMultiplier: s.noiseMultiplier,
      delta: s.delta,
      epsilon: this.epsilon,
      epsilonBudget: s.epsilonBudget ?? null,
      roundsReleased: this.accountant.steps,
      halted: this.haltReason,
    };
  }
}
