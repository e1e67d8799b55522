import { heldOutMetrics } from '../metrics.js';
import type { EvalSummary } from '../evaluate.js';
import type { UserData } from '../split.js';

/** Training interactions per item: the popularity floor any recommender must beat. */
export function itemPopularity(users: UserData[], numItems: number): Float32Array {
  const counts = new Float32Array(numItems);
  for (const u of users) for (const i of u.trainItems) counts[i]!++;
  return counts;
}

/** ItemPop under the same protocol: rank each held-out item by training popularity. */
export function evaluateItemPop(users: UserData[], numItems: number, k = 10): EvalSummary {
  const pop = itemPopularity(users, numItems);
  let hr = 0;
  let ndcg = 0;
  for (const u of users) {
    const scores = new Float32Array(1 + u.testNegatives.length);
    scores[0] = pop[u.testItem]!;
    u.testNegatives.forEach((item, k2) => (scores[k2 + 1] = pop[item]!));
    const m = heldOutMetrics(scores, k);
    hr += m.hr;
    ndcg += m.ndcg;
  }
  const n = users.length || 1;
  return { hr10: hr / n, ndcg10: ndcg / n, loss: NaN, users: users.length };
}
