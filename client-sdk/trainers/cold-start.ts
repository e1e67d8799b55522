/**
 * How a device ranks the catalogue while it knows little about its user (cold start).
 *
 * - No liked item: the popularity prior alone. The prior is per-row popularity (interaction
 *   counts, ranked by log(1 + count)) handed in by the app or the coordinator's catalogue; without
 *   one, the global model's own score for a neutral user, i.e. an all-zero private embedding (for MF
 *   that is exactly the item bias; for NeuMF the MLP's answer to [0, item]).
 * - 1 or 2 liked items: both scores standardized over the catalogue (z-scores, so counts and
 *   logits are on one scale) and blended, the personal share growing with what is known:
 *   w = liked / PERSONAL_FULL_AT, score = (1 - w)·z(prior) + w·z(personal).
 * - PERSONAL_FULL_AT or more liked items: the personal scores alone.
 */
export const PERSONAL_FULL_AT = 3;

/** The personal share of the ranking score for a user with `liked` liked items. */
export function personalWeight(liked: number): number {
  return Math.max(0, Math.min(1, liked / PERSONAL_FULL_AT));
}

/** Popularity counts as a ranking score: log(1 + count) (non-finite or negative counts score 0). */
export function popularityScores(counts: ArrayLike<number>, numItems: number): Float32Array {
  const out = new Float32Array(numItems);
  const n = Math.min(numItems, counts.length);
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    out[i] = c > 0 && Number.isFinite(c) ? Math.log1p(c) : 0;
  }
  return out;
}

/** (x - mean) / std into `out` (a constant vector becomes zeros). */
export function standardize(x: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const { mean, std } = moments(x);
  const inv = std > 0 ? 1 / std : 0;
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - mean) * inv;
  return out;
}

/**
 * The ranking score of every item for a user with `liked` liked items (the rule above). `prior` is
 * already a score (popularityScores, or neutral-user logits); `personal` the user's own logits.
 * Writes into `out` when given (reused across calls: no catalogue-sized allocation per recommend).
 */
export function coldStartScores(prior: Float32Array, personal: Float32Array, liked: number, out?: Float32Array): Float32Array {
  const w = personalWeight(liked);
  if (w >= 1) return personal;
  if (w <= 0) return prior;
  const zp = standardize(prior, out ?? new Float32Array(prior.length));
  const { mean, std } = moments(personal);
  const inv = std > 0 ? 1 / std : 0;
  for (let i = 0; i < zp.length; i++) zp[i] = (1 - w) * zp[i]! + w * (personal[i]! - mean) * inv;
  return zp;
}

/** Mean and (population) standard deviation. */
function moments(x: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  const mean = sum / (x.length || 1);
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += (x[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / (x.length || 1)) };
}
