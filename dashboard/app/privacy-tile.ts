import type { CoordinatorStatus } from '@fedrec/coordinator/coordinator-status.js';

/** The privacy tile: epsilon spent / budget at delta, or why training stopped for it; "off" without DP. */
export function privacyTileText(s: Pick<CoordinatorStatus, 'privacy'>): string {
  const p = s.privacy;
  if (!p) return 'off';
  const spent = `ε ${p.epsilon.toFixed(2)} / ${p.epsilonBudget === null ? 'no budget' : p.epsilonBudget} (δ ${p.delta})`;
  return p.halted ? `${spent} · budget reached, training stopped` : `${spent} · ${p.placement} noise σ ${p.noiseMultiplier}`;
}
