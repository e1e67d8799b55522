import { allFinite } from '@fedrec/protocol';
import type { LocalFitResult } from '@fedrec/models/ncf/engine/local-fit.js';

/**
 * Whether a local fit stayed finite: every item-row delta, dense delta and private tensor after it.
 * A fit that diverged must leave the device as it was: the upload check (round-tasks.ts) refuses its
 * delta anyway, but a non-finite user row or PFedRec score function, once kept, made every later round
 * of that device fail too (seen on one of 300 seq devices with PFedRec and 2 local epochs at lr 1: it
 * diverged in round 1 and failed all 19 rounds after).
 */
export function fitIsFinite(r: LocalFitResult): boolean {
  for (const m of [r.itemDeltas, r.denseDeltas, r.privateAfter]) for (const t of m.values()) if (!allFinite(t)) return false;
  return true;
}
