import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import { scoreItemsJs } from '@fedrec/models/ncf/engine/score.js';
import { heldOutMetrics } from './metrics.js';
import type { UserData } from './split.js';

export interface EvalSummary {
  hr10: number;
  ndcg10: number;
  loss: number;
  users: number;
}

/** The He et al. protocol over users: each held-out item ranked against its 99 negatives. */
export function evaluateUsers(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  privateOf: (user: number) => Map<string, Float32Array>,
  users: UserData[],
  k = 10,
): EvalSummary {
  let hr = 0;
  let ndcg = 0;
  let loss = 0;
  for (const u of users) {
    const candidates = new Int32Array(1 + u.testNegatives.length);
    candidates[0] = u.testItem;
    candidates.set(u.testNegatives, 1);
    const m = heldOutMetrics(scoreItemsJs(a, shared, privateOf(u.user), candidates), k);
    hr += m.hr;
    ndcg += m.ndcg;
    loss += m.loss;
  }
  const n = users.length || 1;
  return { hr10: hr / n, ndcg10: ndcg / n, loss: loss / n, users: users.length };
}
