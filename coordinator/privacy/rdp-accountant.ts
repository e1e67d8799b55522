/**
 * Rényi-DP accounting of the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential
 * Privacy of the Sampled Gaussian Mechanism"), ported from TensorFlow Privacy's rdp_accountant.py
 * (`_compute_log_a_int`, `_compute_log_a_frac`, `_compute_rdp`, `compute_rdp`, `_compute_eps`).
 *
 * Written here because npm has no maintained JS accountant: the registry lists none for RDP, PRV or PLD
 * accounting (searched for "differential privacy", "rdp", "accountant", "opacus"); the few DP packages are
 * Laplace-noise toys without composition. The port is checked against TF Privacy's published figures and
 * closed forms in rdp-accountant.test.ts.
 *
 * One step = one released round: a Gaussian sum with noise std = noiseMultiplier × clip norm over a
 * sample of clients, each in it with probability q (Poisson sampling; see the README on why a fixed-size
 * sample is accounted the same way here).
 */

/** Opacus' and TF Privacy's compute_dp_sgd_privacy orders (1.1 … 10.9 by 0.1, 12 … 63), plus a few large ones for tiny δ. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
  128,
  256,
  512,
  1024,
];

function logAdd(x: number, y: number): number {
  const a = Math.min(x, y);
  const b = Math.max(x, y);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(exp(x) − exp(y)) for x ≥ y. */
function logSub(x: number, y: number): number {
  if (x < y) throw new RangeError('logSub: the result would be negative');
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const d = Math.expm1(x - y);
  return Number.isFinite(d) ? Math.log(d) + y : x;
}

/**
 * log |C(alpha, i)| and its sign for i = 0, 1, 2, ... in turn: C(alpha, i+1) = C(alpha, i)·(alpha − i)/(i + 1),
 * O(1) per term and exact in sign for real alpha (scipy's binom in the reference).
 */
class BinomialCoefficients {
  log = 0;
  sign = 1;
  private i = 0;

  constructor(private readonly alpha: number) {}

  /** Moves from C(alpha, i) to C(alpha, i + 1). */
  advance(): void {
    const f = this.alpha - this.i;
    this.i += 1;
    if (f === 0) {
      this.sign = 0;
      this.log = -Infinity;
      return;
    }
    if (f < 0) this.sign = -this.sign;
    this.log += Math.log(Math.abs(f)) - Math.log(this.i);
  }
}

/** log erfc(x), accurate far into the tail (scipy's log_ndtr route in TF Privacy). */
function logErfc(x: number): number {
  if (x < 5) return Math.log(erfc(x));
  // Asymptotic expansion, as TF Privacy falls back to when erfc underflows.
  return -Math.log(Math.PI) / 2 - Math.log(x) - x * x - 0.5 * x ** -2 + 0.625 * x ** -4 - (37 / 24) * x ** -6 + (353 / 64) * x ** -8;
}

/** erfc by its continued fraction for x > 2 and by the series of erf otherwise (double precision). */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf(x) = 2/sqrt(pi) Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's continued fraction: erfc(x) = exp(−x²)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = x + a / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const binom = new BinomialCoefficients(alpha);
  for (let i = 0; i <= alpha; i++, binom.advance()) {
    const coef = binom.log + i * Math.log(q) + (alpha - i) * Math.log(1 - q);
    logA = logAdd(logA, coef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const binom = new BinomialCoefficients(alpha);
  for (let i = 0; ; i++, binom.advance()) {
    const { log: logCoef, sign } = binom;
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * Math.log(1 - q);
    const logT1 = logCoef + j * Math.log(q) + i * Math.log(1 - q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30 || i > 10_000) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP of one step of the sampled Gaussian mechanism at one order. */
export function rdpOfStep(q: number, noiseMultiplier: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate ${q} is outside [0, 1]`);
  if (q === 0) return 0;
  if (!(noiseMultiplier > 0)) return Infinity;
  if (q === 1) return order / (2 * noiseMultiplier * noiseMultiplier);
  if (!Number.isFinite(order)) return Infinity;
  const logA = Number.isInteger(order) ? logAInt(q, noiseMultiplier, order) : logAFrac(q, noiseMultiplier, order);
  return logA / (order - 1);
}

/** RDP of `steps` steps at each order (compute_rdp). */
export function computeRdp(q: number, noiseMultiplier: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  return orders.map((a) => rdpOfStep(q, noiseMultiplier, a) * steps);
}

/**
 * (ε, δ) from RDP, minimised over the orders: the conversion of Balle et al. 2020 (Prop. 12 of "Hypothesis
 * testing interpretations and Rényi DP"), as TF Privacy's `_compute_eps` and Opacus use today. `classic`
 * uses Mironov's original ε = rdp − log δ / (α − 1), which older published figures were computed with.
 */
export function epsilonFromRdp(
  rdp: readonly number[],
  delta: number,
  orders: readonly number[] = DEFAULT_ORDERS,
  conversion: 'improved' | 'classic' = 'improved',
): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta ${delta} is outside (0, 1)`);
  let best = { epsilon: Infinity, order: NaN };
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    let eps: number;
    if (conversion === 'classic') eps = r - Math.log(delta) / (a - 1);
    else if (delta * delta + Math.expm1(-r) >= 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  }
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** ε after `steps` identical steps. */
export function epsilonFor(q: number, noiseMultiplier: number, steps: number, delta: number): number {
  return epsilonFromRdp(computeRdp(q, noiseMultiplier, steps), delta).epsilon;
}

/**
 * The smallest noise multiplier (to 3 significant digits) for which `steps` steps at rate q stay within
 * ε at δ: how the presets and the trade-off bench pick σ for a target ε.
 */
export function noiseMultiplierFor(targetEpsilon: number, q: number, steps: number, delta: number): number {
  if (!(targetEpsilon > 0)) throw new RangeError('target epsilon must be positive');
  let lo = 0.05;
  let hi = 1;
  while (epsilonFor(q, hi, steps, delta) > targetEpsilon) {
    hi *= 2;
    if (hi > 1e4) throw new RangeError(`no noise multiplier reaches epsilon ${targetEpsilon} in ${steps} steps at q = ${q}`);
  }
  while (hi - lo > hi * 1e-3) {
    const mid = (lo + hi) / 2;
    if (epsilonFor(q, mid, steps, delta) > targetEpsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** What the accountant checkpoints: RDP is additive over steps, so the running sum per order is the state. */
export interface AccountantState {
  orders: number[];
  rdp: number[];
  /** Released steps so far. */
  steps: number;
}

/** Running RDP over released rounds (each with its own sampling rate and noise). */
export class RdpAccountant {
  private rdp: number[];
  private stepsSpent = 0;

  constructor(readonly orders: readonly number[] = DEFAULT_ORDERS) {
    this.rdp = orders.map(() => 0);
  }

  get steps(): number {
    return this.stepsSpent;
  }

  /** Adds one released step. */
  spend(q: number, noiseMultiplier: number): void {
    this.rdp = this.after(q, noiseMultiplier);
    this.stepsSpent += 1;
  }

  epsilon(delta: number): number {
    return this.stepsSpent === 0 ? 0 : epsilonFromRdp(this.rdp, delta, this.orders).epsilon;
  }

  /** ε if one more step at (q, σ) were released now. */
  epsilonAfter(q: number, noiseMultiplier: number, delta: number): number {
    return epsilonFromRdp(this.after(q, noiseMultiplier), delta, this.orders).epsilon;
  }

  state(): AccountantState {
    return { orders: [...this.orders], rdp: [...this.rdp], steps: this.stepsSpent };
  }

  /** Restores a checkpointed state; refuses one of other orders or with invalid values (never resets silently). */
  restore(s: AccountantState): void {
    if (s.orders.length !== this.orders.length || s.orders.some((a, i) => a !== this.orders[i])) throw new Error('privacy ledger: its RDP orders differ');
    if (s.rdp.length !== this.orders.length || s.rdp.some((r) => !(r >= 0))) throw new Error('privacy ledger: invalid RDP values');
    if (!(Number.isInteger(s.steps) && s.steps >= 0)) throw new Error('privacy ledger: invalid step count');
    this.rdp = [...s.rdp];
    this.stepsSpent = s.steps;
  }

  private after(q: number, noiseMultiplier: number): number[] {
    return this.orders.map((a, k) => this.rdp[k]! + rdpOfStep(q, noiseMultiplier, a));
  }
}
