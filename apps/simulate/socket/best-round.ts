import type { RoundRow } from './run-simulation.js';

/** The fields selection may read: the round id and the VALIDATION metrics, never the test ones. */
export type ValidationView = Pick<RoundRow, 'round' | 'valHr10' | 'valNdcg10'>;

/**
 * The evaluated round with the best validation HR@10 (ties: better validation NDCG@10, then the
 * earlier round), or null when no round has validation metrics. It reads only `ValidationView`, so
 * the test item cannot influence which round is reported (test/simulation/best-round.test.ts
 * instruments the rows to prove it).
 */
export function chooseRoundOnValidation(rows: readonly ValidationView[]): number | null {
  let best: ValidationView | null = null;
  for (const r of rows) {
    if (r.valHr10 === null || r.valNdcg10 === null) continue;
    if (!best || r.valHr10 > best.valHr10! || (r.valHr10 === best.valHr10 && r.valNdcg10 > best.valNdcg10!)) best = r;
  }
  return best ? best.round : null;
}
