import { LONG_TERM_ALPHA } from '../arch.js';

/** FISM's weight |H|^-α of a history of n items (0 for an empty history: the term is then zero). */
export function longTermScale(n: number): number {
  return n > 0 ? Math.pow(n, -LONG_TERM_ALPHA) : 0;
}

/** The first position of the window of items the long-term term reads at position t: max(0, t - N). */
export function windowStart(t: number, historyLen: number): number {
  return Math.max(0, t - historyLen);
}

/**
 * Fossil's long-term term over one device's sequence for the hand-written engine:
 *   v_t = |H_t|^-α · Σ_{i∈H_t} in[s_i],  H_t = positions [max(0, t-N), t)
 * read at each example's position. Forward: prefix sums of the sequence's input rows, rebuilt once per
 * mini-batch (the rows change only at the step), so each example costs O(dim), not O(N·dim). Backward:
 * each position's dLoss/dv_t·scale is summed per position, and the row at position i takes the sum over
 * the positions t in (i, i+N] whose window holds it: a sliding suffix sum, O(n·dim) per batch.
 */
export class LongTermSums {
  private sequence: Int32Array = new Int32Array(0);
  private prefix = new Float64Array(0);
  private dPos = new Float64Array(0);
  private fresh = false;
  private touched = false;

  constructor(
    private readonly dim: number,
    private readonly historyLen: number,
  ) {}

  /** The device's time-ordered sequence as local rows. */
  setSequence(rows: Int32Array): void {
    this.sequence = rows;
    this.prefix = new Float64Array((rows.length + 1) * this.dim);
    this.dPos = new Float64Array(rows.length * this.dim);
    this.fresh = false;
    this.touched = false;
  }

  /** Writes v_t into `out` from the current input rows; returns the scale |H_t|^-α. */
  vector(itemIn: Float32Array, t: number, out: Float32Array): number {
    const d = this.dim;
    if (!this.fresh) this.rebuild(itemIn);
    const lo = windowStart(t, this.historyLen);
    const c = longTermScale(t - lo);
    for (let k = 0; k < d; k++) out[k] = c * (this.prefix[t * d + k]! - this.prefix[lo * d + k]!);
    return c;
  }

  /** Accumulates dLoss/dv_t · scale (`g`, length dim) at position t. */
  accumulate(t: number, g: ArrayLike<number>, scale: number): void {
    const d = this.dim;
    for (let k = 0; k < d; k++) this.dPos[t * d + k]! += scale * g[k]!;
    this.touched = true;
  }

  /** Adds the accumulated gradient into the rows' gradients (`touch` marks each row), clears it, and marks the sums stale. */
  flush(gradIn: Float32Array, touch: (row: number) => void): void {
    this.fresh = false;
    if (!this.touched) return;
    const d = this.dim;
    const n = this.sequence.length;
    const N = this.historyLen;
    const running = new Float64Array(d);
    for (let i = n - 1; i >= 0; i--) {
      // running = Σ_{t=i+1}^{min(i+N, n-1)} dPos[t]
      if (i + 1 < n) for (let k = 0; k < d; k++) running[k]! += this.dPos[(i + 1) * d + k]!;
      if (i + N + 1 < n) for (let k = 0; k < d; k++) running[k]! -= this.dPos[(i + N + 1) * d + k]!;
      const r = this.sequence[i]!;
      touch(r);
      for (let k = 0; k < d; k++) gradIn[r * d + k]! += running[k]!;
    }
    this.dPos.fill(0);
    this.touched = false;
  }

  private rebuild(itemIn: Float32Array): void {
    const d = this.dim;
    for (let t = 0; t < this.sequence.length; t++) {
      const r = this.sequence[t]!;
      for (let k = 0; k < d; k++) this.prefix[(t + 1) * d + k] = this.prefix[t * d + k]! + itemIn[r * d + k]!;
    }
    this.fresh = true;
  }
}
