import type { SecAggMode } from '@fedrec/protocol';
import type { PrivacyInput } from './privacy-options.js';

export const PRIVACY_PRESETS = ['off', 'standard', 'strict'] as const;
export type PrivacyPresetName = (typeof PRIVACY_PRESETS)[number];

/** What one `--privacy` preset sets together (the README table is generated from the same values). */
export interface PrivacyPreset {
  secureAggregation: SecAggMode;
  privacy: PrivacyInput;
  /** Secure-aggregation settings the preset needs (weights are 1 under DP: a small maxWeight keeps the quantization fine). */
  secAgg?: { maxWeight: number };
  /**
   * Defaults for settings the operator did not set: the fraction of connected clients a round samples (the
   * accountant's amplification by sampling: with every client every round, ε 8 is spent in two rounds), and
   * the server learning rate that makes up for clipping and the fixed denominator (measured on ML-100K:
   * bench/privacy-tradeoff.ts, clip only at server lr 8 reaches HR@10 0.40 after 20 rounds of 200 vs 0.13 at lr 1).
   */
  clientsPerRound?: number;
  serverLearningRate?: number;
  /** One line for --help. */
  summary: string;
}

/**
 * The presets. Clip norm 0.5: below the median NeuMF update norm on ML-100K at the default client settings
 * (1.33 at the first round; 0.94 / 1.67 at the 10th / 90th percentiles), so every update is clipped, as
 * DP-FedAvg usually runs. Noise multipliers and budgets: standard reaches ε 8 (δ 1e-5) after about 50 rounds
 * at 20% of the population a round, strict ε 2 (σ 2: about 30 rounds at 10%); see the README's table.
 * Distributed noise is calibrated for half the selected devices surviving (minSurvivorFraction 0.5): with
 * 0.8, a secagg+ round that lost most devices in share-keys (16 of 60 left in `npm run simulate -- --privacy
 * standard` on this loaded machine) was unmasked with σ·√(16/48) and spent ε 6.8 in one round. At 0.5 a full
 * round carries √2 × the noise it needs (accounted as such: it spends less), and one at minResults exactly σ.
 * standard is the one preset written out; strict is standard with its differences (below).
 */
const STANDARD: DpPreset = {
  secureAggregation: 'secagg+',
  privacy: { clipNorm: 0.5, noiseMultiplier: 1, delta: 1e-5, epsilonBudget: 8, placement: 'distributed', minSurvivorFraction: 0.5 },
  secAgg: { maxWeight: 1 },
  clientsPerRound: 0.2,
  serverLearningRate: 8,
};

/** strict: twice the noise, a quarter of the budget, half the sampling rate; everything else as standard. */
const STRICT: DpPreset = {
  ...STANDARD,
  privacy: { ...STANDARD.privacy, noiseMultiplier: 2, epsilonBudget: 2 },
  clientsPerRound: 0.1,
};

type DpPreset = Omit<PrivacyPreset, 'summary' | 'privacy'> & { privacy: DpSettingsInput; clientsPerRound: number; serverLearningRate: number };
type DpSettingsInput = Exclude<PrivacyInput, 'off' | undefined>;

/** The --help line of a DP preset, from its values. */
function summaryOf(p: DpPreset): string {
  const { clipNorm, noiseMultiplier, epsilonBudget, delta = 1e-5 } = p.privacy;
  return (
    `${p.secureAggregation} with distributed DP: clip ${clipNorm}, noise multiplier ${noiseMultiplier}, stops at epsilon ${epsilonBudget} ` +
    `(delta ${delta.toExponential()}); ${Math.round(p.clientsPerRound * 100)}% of clients a round, server lr ${p.serverLearningRate} unless set`
  );
}

export const PRIVACY_PRESET_TABLE: Record<PrivacyPresetName, PrivacyPreset> = {
  off: { secureAggregation: 'off', privacy: 'off', summary: 'no DP; secure aggregation as --secure-aggregation says (npm start: secagg+ unless set)' },
  standard: { ...STANDARD, summary: summaryOf(STANDARD) },
  strict: { ...STRICT, summary: summaryOf(STRICT) },
};

/** --dp-clip: the clip norm fixed at the preset's, or adaptive towards a quantile of the update norms. */
export type DpClipChoice = { mode: 'fixed' } | { mode: 'adaptive'; targetQuantile: number };

/**
 * The coordinator options a preset sets. An explicitly chosen secure-aggregation mode wins over the preset's:
 * secagg instead of secagg+ keeps the DP settings with distributed noise; off (plain mode) turns the noise
 * central (the coordinator adds it to the sum of the updates it opens: the trusted-aggregator model).
 * Adaptive clipping (--dp-clip adaptive) runs in every mode: plain mode counts the clipping bits from the updates
 * it opens; under secure aggregation each device masks its own bit (privacy-guard.ts, README "Adaptive clipping
 * under secure aggregation").
 */
export function privacyPresetOptions(
  name: PrivacyPresetName,
  explicit: { secureAggregation?: SecAggMode | undefined; clip?: DpClipChoice | undefined } = {},
): { secureAggregation: SecAggMode; privacy: PrivacyInput; secAgg?: { maxWeight: number } } {
  const p = PRIVACY_PRESET_TABLE[name];
  const mode = explicit.secureAggregation ?? p.secureAggregation;
  let privacy = p.privacy;
  if (privacy !== 'off' && privacy !== undefined) {
    const dp: DpSettingsInput = { ...privacy, ...(mode === 'off' ? { placement: 'central' as const } : {}) };
    if (explicit.clip?.mode === 'adaptive') dp.adaptiveClip = { targetQuantile: explicit.clip.targetQuantile };
    privacy = dp;
  }
  return { secureAggregation: mode, privacy, ...(p.secAgg ? { secAgg: p.secAgg } : {}) };
}

/** The --privacy help line. */
export function privacyPresetHelp(): string {
  return `privacy preset: ${PRIVACY_PRESETS.map((n) => `${n} = ${PRIVACY_PRESET_TABLE[n].summary}`).join('; ')}`;
}
