/**
 * SecAgg+ neighbour count k and threshold t from the expected dropout rate δ, the fraction γ of clients
 * that may collude with the server, and target failure probabilities, after the analysis of Bell et al. 2020
 * ("Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", §3–4: each client's neighbours are a
 * small random set, k = O(log n), and three events must each be unlikely over the whole round):
 *
 * - security (2^-securityBits): the γ-corrupt neighbours of one honest client reach t shares between them
 *   (then they and the server rebuild its secrets). c = the (1 − 2^-σ/n) quantile of Bin(k, γ); t = c + 1.
 * - correctness (2^-correctnessBits): a client's shares cannot be rebuilt because fewer than t of its k
 *   neighbours survive: n · P[Bin(k, 1−δ) < t].
 * - connectivity (2^-correctnessBits): the honest survivors' mask graph falls apart, so the server would learn
 *   partial sums. Our graph is a circulant over a random permutation: it splits only when k/2 consecutive
 *   positions are all dropped or corrupt, ≈ n · (δ+γ)^(k/2).
 *
 * t never exceeds a strict majority of the sharing group (k+1): at that point corrupt neighbours and a server
 * asking disjoint halves for different shares are both covered (see README "Why a strict majority").
 * k is the smallest even degree meeting all three; when none up to n−1 (or 254, the GF(2^8) limit) does,
 * k is the largest allowed and `meetsTargets` is false (small rounds: the old full-graph strict majority).
 * Pure, deterministic and cached: the client recomputes the same (k, t) from the config and the roster size.
 */
export interface SecAggPlusTargets {
  /** Expected fraction of clients that drop after sharing keys. */
  dropoutRate: number;
  /** Fraction of clients that may collude with the server. */
  corruptionRate: number;
  /** −log2 of the allowed probability that colluders can rebuild an honest client's secrets. */
  securityBits?: number;
  /** −log2 of the allowed probability that a round fails or its graph splits. */
  correctnessBits?: number;
}

export interface SecAggPlusParameters {
  /** Neighbours of each client (even; n−1 means every other client). */
  neighbours: number;
  /** Shares needed to rebuild a secret, in the group of neighbours + 1. */
  threshold: number;
  /** Corrupt neighbours the threshold is sized against. */
  corruptNeighbours: number;
  /** Probability, over the round, that too few share holders survive. */
  failureProbability: number;
  /** Probability that the surviving honest graph splits. */
  splitProbability: number;
  /** Whether every target was met (false in small rounds, where the full graph is used anyway). */
  meetsTargets: boolean;
}

export const MAX_NEIGHBOURS = 254; // a sharing group of 255: the most shares GF(2^8) Shamir can make

const cache = new Map<string, SecAggPlusParameters>();

export function secAggPlusParameters(n: number, targets: SecAggPlusTargets): SecAggPlusParameters {
  const { dropoutRate: delta, corruptionRate: gamma } = targets;
  const sigma = targets.securityBits ?? 40;
  const eta = targets.correctnessBits ?? 20;
  const key = `${n}|${delta}|${gamma}|${sigma}|${eta}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const maxK = Math.min(n - 1, MAX_NEIGHBOURS);
  let best: SecAggPlusParameters | null = null;
  for (let k = Math.min(2, maxK); k <= maxK; k = k + 2 > maxK && k < maxK ? maxK : k + 2) {
    const candidate = evaluate(n, k, delta, gamma, sigma, eta);
    best = candidate;
    if (candidate.meetsTargets) break;
  }
  const result = best ?? evaluate(n, Math.max(1, maxK), delta, gamma, sigma, eta);
  cache.set(key, result);
  return result;
}

const byDegree = new Map<string, SecAggPlusParameters>();

/**
 * The threshold and failure figures for a given degree k (k = n−1: full SecAgg). Cached like secAggPlusParameters:
 * every client derives t in its share-keys step (twice: the roster check and the feasibility check), and the binomial
 * tails cost 0.1–0.4 ms a call at k = 66–72, a few percent of that step.
 */
export function parametersForDegree(n: number, k: number, targets: SecAggPlusTargets): SecAggPlusParameters {
  const sigma = targets.securityBits ?? 40;
  const eta = targets.correctnessBits ?? 20;
  const key = `${n}|${k}|${targets.dropoutRate}|${targets.corruptionRate}|${sigma}|${eta}`;
  let hit = byDegree.get(key);
  if (!hit) byDegree.set(key, (hit = evaluate(n, k, targets.dropoutRate, targets.corruptionRate, sigma, eta)));
  return hit;
}

function evaluate(n: number, k: number, delta: number, gamma: number, sigma: number, eta: number): SecAggPlusParameters {
  const m = k + 1;
  let c = 0;
  if (gamma > 0) while (c < k && binomialTail(k, gamma, c + 1) > 2 ** -sigma / n) c++;
  const majority = Math.floor(m / 2) + 1;
  const threshold = Math.max(2, Math.min(majority, c + 1, m));
  const failureProbability = Math.min(1, n * (1 - binomialTail(k, 1 - delta, threshold)));
  const full = k >= n - 1;
  const splitProbability = full ? 0 : Math.min(1, n * (delta + gamma) ** (k / 2));
  const bound = 2 ** -eta;
  const meetsTargets = c + 1 <= majority && failureProbability <= bound && splitProbability <= bound;
  return { neighbours: k, threshold, corruptNeighbours: c, failureProbability, splitProbability, meetsTargets };
}

/** P[Bin(k, p) ≥ x], summed in log space (k ≤ 254, so a direct sum is exact enough). */
export function binomialTail(k: number, p: number, x: number): number {
  if (x <= 0) return 1;
  if (x > k) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let sum = 0;
  for (let i = x; i <= k; i++) sum += Math.exp(logChoose(k, i) + i * Math.log(p) + (k - i) * Math.log1p(-p));
  return Math.min(1, sum);
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}
