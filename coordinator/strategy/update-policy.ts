import { z } from 'zod';
import type { RowTable } from '@fedrec/protocol';
import { RecentValues } from './recent-values.js';

/**
 * What the coordinator does to each accepted plain-mode update before any strategy sees it: bound its
 * L2 norm and cap its weight. Both act on one update at a time, so they work while streaming (O(model)
 * memory) and in front of the buffering strategies alike.
 *
 * The norm bound is adaptive by default, in the spirit of Andrew et al. 2021 ("Differentially Private
 * Learning with Adaptive Clipping", Flower's DifferentialPrivacyServerSideAdaptiveClipping): the bound
 * follows a quantile of recent update norms. Without DP noise we can use the exact quantile of a window
 * of recent norms instead of their geometric estimate, which tracks the honest scale from the first
 * round rather than creeping towards it from an arbitrary initial value (Flower starts at 0.1 and moves
 * about 10% a round). A minority of attackers moves a median very little, whatever their norms.
 */
export const updatePolicySchema = z.strictObject({
  normBound: z
    .union([
      z.literal('off'),
      z.strictObject({ mode: z.literal('fixed'), value: z.number().positive().finite() }),
      z.strictObject({
        mode: z.literal('adaptive'),
        /** Which quantile of recent norms the bound follows. */
        quantile: z.number().gt(0).lt(1).default(0.5),
        /** bound = multiplier × that quantile: 1 clips every update above the quantile. */
        multiplier: z.number().min(1).finite().default(3),
        /** How many recent (pre-clip) norms the quantile is taken over. */
        window: z.number().int().min(3).default(500),
        /** Norms to see before the adaptive bound is trusted; until then updates are held back (see UpdateGate). */
        minSamples: z.number().int().min(1).default(5),
      }),
    ])
    .default({ mode: 'adaptive', quantile: 0.5, multiplier: 3, window: 500, minSamples: 5 }),
  weightCap: z
    .union([
      z.literal('off'),
      z.strictObject({ mode: z.literal('fixed'), value: z.number().positive().finite() }),
      z.strictObject({
        mode: z.literal('adaptive'),
        /** cap = multiple × median of recent example counts. */
        multiple: z.number().min(1).finite().default(10),
        window: z.number().int().min(3).default(500),
      }),
    ])
    .default({ mode: 'adaptive', multiple: 10, window: 500 }),
  /**
   * A bound on each touched row of a rowwise (item) table, per update: the whole-update bound cannot see
   * a targeted push, which moves one item's rows a long way while the update's norm stays ordinary.
   * bound = multiplier × the quantile of recent row-delta norms (rows of all updates, pre-clip).
   * Off by default: row-delta norms are heavy-tailed (a trained item's row moves far more than a sampled
   * negative's), and at 3 × the median it clipped most honest rows and cost 8.5 HR@10 points on the
   * clean ML-100K run of bench/poisoning.ts.
   */
  rowNormBound: z
    .union([
      z.literal('off'),
      z.strictObject({
        mode: z.literal('adaptive'),
        quantile: z.number().gt(0).lt(1).default(0.5),
        multiplier: z.number().min(1).finite().default(3),
        window: z.number().int().min(3).default(5000),
      }),
    ])
    .default('off'),
});

export type UpdatePolicyOptions = z.output<typeof updatePolicySchema>;
export type UpdatePolicyInput = z.input<typeof updatePolicySchema>;

export const DEFAULT_UPDATE_POLICY: UpdatePolicyOptions = updatePolicySchema.parse({});

/** An update in the dense form the validator returns. */
export interface DenseUpdate {
  numExamples: number;
  delta: Float32Array;
  rowWeights: Float32Array | undefined;
}

/** The update after the policy, and what was done to it. */
export interface PolicedUpdate extends DenseUpdate {
  /** L2 norm of the delta as received. */
  norm: number;
  /** The bound applied (Infinity when none). */
  bound: number;
  clipped: boolean;
  weightCapped: boolean;
  /** Rows of rowwise tables whose delta the row bound scaled down. */
  rowsClipped: number;
}

/** What the bounds did to a number of updates: the round's clipping counts. */
export interface BoundsTally {
  clipped: number;
  weightCapped: number;
  rowsClipped: number;
}

export function emptyTally(): BoundsTally {
  return { clipped: 0, weightCapped: 0, rowsClipped: 0 };
}

/** Counts one policed update (or adds another tally) into `t`. */
export function addToTally(t: BoundsTally, u: Pick<PolicedUpdate, 'clipped' | 'weightCapped' | 'rowsClipped'> | BoundsTally): void {
  t.clipped += Number(u.clipped);
  t.weightCapped += Number(u.weightCapped);
  t.rowsClipped += u.rowsClipped;
}

/** The recent norms and weights (plain numbers, checkpointed so a restart keeps its bound). */
export interface UpdatePolicyState {
  norms: number[];
  weights: number[];
  rowNorms?: number[] | undefined;
}

/**
 * The L2 norm, summed in float64 over four interleaved accumulators: one running sum waits on each add's
 * latency, four keep the adder busy (about 2x in a side check on 100k floats). The four partial sums are added at
 * the end, so the last bits differ from a single running sum; every path (main thread, update workers) uses this.
 */
export function l2Norm(v: ArrayLike<number>): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = v.length;
  const whole = n - (n % 4);
  let i = 0;
  for (; i < whole; i += 4) {
    const a = v[i]!;
    const b = v[i + 1]!;
    const c = v[i + 2]!;
    const d = v[i + 3]!;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (; i < n; i++) s0 += v[i]! * v[i]!;
  return Math.sqrt(s0 + s1 + (s2 + s3));
}

/** The L2 norm of each touched row (row weight > 0) of each rowwise table, with its element range. */
function touchedRowNorms(u: DenseUpdate, tables: readonly RowTable[]): Array<{ start: number; end: number; norm: number }> {
  const out: Array<{ start: number; end: number; norm: number }> = [];
  if (!u.rowWeights) return out;
  for (const t of tables) {
    for (let r = 0; r < t.rows; r++) {
      if (!((u.rowWeights[t.rowWeightOffset + r] ?? 0) > 0)) continue;
      const start = t.offset + r * t.cols;
      const end = start + t.cols;
      let s = 0;
      for (let i = start; i < end; i++) s += u.delta[i]! * u.delta[i]!;
      out.push({ start, end, norm: Math.sqrt(s) });
    }
  }
  return out;
}

/** The bounds one update is held to: per touched row, on the whole delta, on its weight (Infinity = none). */
export interface UpdateBounds {
  rowBound: number;
  bound: number;
  cap: number;
}

/** An update's pre-clip L2 norm and its touched rows' norms (with their element ranges). */
export interface UpdateMeasure {
  received: number;
  rows: Array<{ start: number; end: number; norm: number }>;
}

/** Measures an update for the policy (`observed`: its norm, when already known). */
export function measureUpdate(u: DenseUpdate, tables: readonly RowTable[], observed?: number): UpdateMeasure {
  return { received: observed ?? l2Norm(u.delta), rows: touchedRowNorms(u, tables) };
}

/**
 * The policy's arithmetic on one update, given its bounds: row clipping, then the whole-update norm
 * bound, then the weight cap. Pure: the coordinator's main thread and the update pool's workers run it.
 */
export function applyBounds(u: DenseUpdate, b: UpdateBounds, measured: UpdateMeasure): PolicedUpdate {
  const { rowBound, bound, cap } = b;
  let delta = u.delta;
  let rowsClipped = 0;
  for (const r of measured.rows) {
    if (!(r.norm > rowBound)) continue;
    if (delta === u.delta) delta = u.delta.slice();
    const scale = rowBound / r.norm;
    for (let i = r.start; i < r.end; i++) delta[i] = delta[i]! * scale;
    rowsClipped += 1;
  }
  // The whole-update bound is judged on the delta as received (row clipping does not lower the history).
  const received = measured.received;
  const norm = delta === u.delta ? received : l2Norm(delta);
  const clipped = norm > bound;
  if (clipped) {
    const scale = bound / norm;
    const src = delta;
    delta = new Float32Array(u.delta.length);
    for (let i = 0; i < delta.length; i++) delta[i] = src[i]! * scale;
  }
  const weightCapped = u.numExamples > cap;
  const numExamples = weightCapped ? cap : u.numExamples;
  let rowWeights = u.rowWeights;
  // Row weights scale with the capped example count. They are not clamped to it: a trainer may count a
  // row's examples over all local epochs while numExamples is one epoch's (the SDK's live trainer does).
  if (rowWeights && weightCapped) {
    const factor = numExamples / u.numExamples;
    rowWeights = rowWeights.map((w) => w * factor);
  }
  return { numExamples, delta, rowWeights, norm: received, bound, clipped, weightCapped, rowsClipped };
}

export class UpdatePolicy {
  private readonly norms: RecentValues;
  private readonly weights: RecentValues;
  private readonly rowNorms: RecentValues;

  readonly options: UpdatePolicyOptions;

  /** Takes options as configs write them (defaults filled in by the schema). */
  constructor(options: UpdatePolicyInput = {}) {
    this.options = updatePolicySchema.parse(options);
    this.norms = new RecentValues(this.windowOf('norm'));
    this.weights = new RecentValues(this.windowOf('weight'));
    this.rowNorms = new RecentValues(this.windowOf('row'));
  }

  /** True when the next update can be bounded now (fixed bound, none, or enough history). */
  ready(): boolean {
    const nb = this.options.normBound;
    return nb === 'off' || nb.mode === 'fixed' || this.norms.length >= nb.minSamples;
  }

  /**
   * Records an update's norm, weight and row norms in the history without applying anything (used to warm up).
   * `norm`: the delta's L2 norm when already known (validateUpdate measures it), so it is not computed again.
   */
  observe(u: DenseUpdate, tables: readonly RowTable[] = [], norm = l2Norm(u.delta)): number {
    this.remember(norm, u.numExamples);
    this.rememberRows(touchedRowNorms(u, tables).map((r) => r.norm));
    return norm;
  }

  /** The bound on one row's delta (Infinity when none, or when no row has been seen yet). */
  currentRowBound(): number {
    const rb = this.options.rowNormBound;
    if (rb === 'off' || this.rowNorms.length === 0) return Infinity;
    return rb.multiplier * this.rowNorms.quantile(rb.quantile)!;
  }

  /** The norm bound for the next update (Infinity when none, or when nothing has been seen yet). */
  currentBound(): number {
    const nb = this.options.normBound;
    if (nb === 'off') return Infinity;
    if (nb.mode === 'fixed') return nb.value;
    if (this.norms.length === 0) return Infinity;
    return nb.multiplier * this.norms.quantile(nb.quantile)!;
  }

  /** The weight cap for the next update (Infinity when none). */
  currentWeightCap(): number {
    const wc = this.options.weightCap;
    if (wc === 'off') return Infinity;
    if (wc.mode === 'fixed') return wc.value;
    if (this.weights.length === 0) return Infinity;
    return wc.multiple * this.weights.quantile(0.5)!;
  }

  /** The bounds the next update gets (from earlier updates only): what a worker needs to apply them. */
  bounds(): UpdateBounds {
    return { rowBound: this.currentRowBound(), bound: this.currentBound(), cap: this.currentWeightCap() };
  }

  /** Adds one update's pre-clip norm, weight and touched-row norms to the history. */
  record(norm: number, weight: number, rowNorms: readonly number[]): void {
    this.remember(norm, weight);
    this.rememberRows(rowNorms);
  }

  /**
   * Clips one update: the delta scaled so its L2 norm is at most the bound; numExamples capped, and
   * the row weights scaled by the same factor. The bound comes from earlier updates; then this
   * update's own norm and weight join the history. Returns fresh arrays when anything changed.
   * (The update pool runs the same two halves apart: bounds()+record() here, applyBounds() in a worker.)
   * `known.norm`: the delta's L2 norm when already measured; `known.recorded`: it is already in the history
   * (observe() while warming up), so it is not added again.
   */
  apply(u: DenseUpdate, tables: readonly RowTable[] = [], known: { norm?: number; recorded?: boolean } = {}): PolicedUpdate {
    const bounds = this.bounds();
    const measured = measureUpdate(u, tables, known.norm);
    if (!known.recorded)
      this.record(
        measured.received,
        u.numExamples,
        measured.rows.map((r) => r.norm),
      );
    return applyBounds(u, bounds, measured);
  }

  state(): UpdatePolicyState {
    return { norms: this.norms.values(), weights: this.weights.values(), rowNorms: this.rowNorms.values() };
  }

  restore(s: UpdatePolicyState): void {
    this.norms.reset(s.norms.filter((x) => Number.isFinite(x) && x >= 0));
    this.weights.reset(s.weights.filter((x) => Number.isFinite(x) && x > 0));
    this.rowNorms.reset((s.rowNorms ?? []).filter((x) => Number.isFinite(x) && x >= 0));
  }

  private windowOf(kind: 'norm' | 'weight' | 'row'): number {
    const o = kind === 'norm' ? this.options.normBound : kind === 'weight' ? this.options.weightCap : this.options.rowNormBound;
    return o !== 'off' && o.mode === 'adaptive' ? o.window : 0;
  }

  private rememberRows(norms: readonly number[]): void {
    for (const n of norms) this.rowNorms.push(n);
  }

  private remember(norm: number, weight: number): void {
    this.norms.push(norm);
    this.weights.push(weight);
  }
}
