import type { NcfArch } from '../arch.js';
import { zeroParams, type NcfParams } from './params.js';

/** Numerically stable binary cross-entropy on a logit. */
export function bceWithLogit(logit: number, label: number): number {
  return Math.max(logit, 0) - logit * label + Math.log1p(Math.exp(-Math.abs(logit)));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** grad[k] += c·(param[k] − anchor[k]) over [from, to); no anchor = zero (plain L2). */
function addScaled(grad: Float32Array, param: Float32Array, anchor: Float32Array | undefined, c: number, from: number, to: number): void {
  if (anchor) for (let k = from; k < to; k++) grad[k]! += c * (param[k]! - anchor[k]!);
  else for (let k = from; k < to; k++) grad[k]! += c * param[k]!;
}

export type NcfOptimizer = 'sgd' | 'adam';

/** tf.train.adam's defaults (beta1, beta2) and the epsilon its float32 backends use (backend.epsilon()). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-7;

export interface NcfNetOptions {
  /** Which table rows an Adam step updates: 'touched' (default, LazyAdam) or 'all' (tfjs's dense Adam). */
  adamRows?: 'touched' | 'all';
  /** L2 penalty l2/2·||θ||² on the parameters each step updates (touched rows and dense layers); 0 = none. */
  l2?: number;
  /**
   * FedProx (Li et al. 2020): the proximal term mu/2·||w − anchor||² on the SHARED parameters (item
   * tables and dense layers, never the private user rows), anchor = the global model the fit started
   * from. Its gradient mu·(w − anchor) reaches every item row, so each step updates every local row.
   */
  proximal?: { mu: number; anchor: NcfParams };
}

/**
 * Hand-written NCF forward/backward in plain JS: the fast path for simulation and
 * centralized baselines, and the CPU engine of devices (tests check it agrees with tfjs).
 * Mini-batch SGD or Adam on the mean BCE, gradients accumulated sample by sample.
 */
export class NcfNet {
  private readonly acts: Float32Array[];
  private readonly dActs: Float32Array[];
  private readonly z: Float32Array;
  private readonly dz: Float32Array;
  private touchedUsers: number[] = [];
  private touchedItems: number[] = [];
  private readonly userMark: Uint8Array;
  private readonly itemMark: Uint8Array;
  readonly grads: NcfParams;
  /** Adam moments and the running products of the betas, allocated on the first Adam step. */
  private adam?: { m: NcfParams; v: NcfParams; accBeta1: number; accBeta2: number };

  constructor(
    readonly arch: NcfArch,
    readonly params: NcfParams,
    userRows: number,
    itemRows: number,
    private readonly options: NcfNetOptions = {},
  ) {
    const widths = [2 * arch.mlpDim, ...arch.hidden];
    this.acts = widths.map((w) => new Float32Array(w));
    this.dActs = widths.map((w) => new Float32Array(w));
    const top = arch.mlpDim ? widths[widths.length - 1]! : 0;
    this.z = new Float32Array(arch.gmfDim + top);
    this.dz = new Float32Array(arch.gmfDim + top);
    this.grads = zeroParams(arch, userRows, itemRows);
    this.userMark = new Uint8Array(userRows);
    this.itemMark = new Uint8Array(itemRows);
  }

  /** The logit for (user row, item row); leaves activations for backward. */
  forward(u: number, i: number): number {
    const a = this.arch;
    const p = this.params;
    const f = a.gmfDim;
    const z = this.z;
    for (let k = 0; k < f; k++) z[k] = p.userGmf[u * f + k]! * p.itemGmf[i * f + k]!;
    if (a.mlpDim) {
      const m = a.mlpDim;
      const x0 = this.acts[0]!;
      for (let k = 0; k < m; k++) {
        x0[k] = p.userMlp[u * m + k]!;
        x0[m + k] = p.itemMlp[i * m + k]!;
      }
      for (let l = 0; l < a.hidden.length; l++) {
        const x = this.acts[l]!;
        const y = this.acts[l + 1]!;
        const w = p.layerW[l]!;
        const nIn = x.length;
        const nOut = y.length;
        y.set(p.layerB[l]!);
        for (let r = 0; r < nIn; r++) {
          const xr = x[r]!;
          if (xr === 0) continue;
          const base = r * nOut;
          for (let o = 0; o < nOut; o++) y[o]! += xr * w[base + o]!;
        }
        for (let o = 0; o < nOut; o++) if (y[o]! < 0) y[o] = 0;
      }
      z.set(this.acts[a.hidden.length]!, f);
    }
    if (!a.learnedOutput) {
      let s = a.itemBias ? p.itemBias[i]! : 0;
      for (let k = 0; k < f; k++) s += z[k]!;
      return s;
    }
    let s = p.outB[0]!;
    for (let k = 0; k < z.length; k++) s += z[k]! * p.outW[k]!;
    return s;
  }

  /** Accumulates d(loss)/d(params) for the last forward, given d(loss)/d(logit). */
  backward(u: number, i: number, dLogit: number): void {
    const a = this.arch;
    const p = this.params;
    const g = this.grads;
    const f = a.gmfDim;
    const dz = this.dz;
    this.touch(u, i);
    if (a.learnedOutput) {
      for (let k = 0; k < dz.length; k++) {
        g.outW[k]! += dLogit * this.z[k]!;
        dz[k] = dLogit * p.outW[k]!;
      }
      g.outB[0]! += dLogit;
    } else {
      dz.fill(dLogit);
      if (a.itemBias) g.itemBias[i]! += dLogit;
    }
    for (let k = 0; k < f; k++) {
      g.userGmf[u * f + k]! += dz[k]! * p.itemGmf[i * f + k]!;
      g.itemGmf[i * f + k]! += dz[k]! * p.userGmf[u * f + k]!;
    }
    if (!a.mlpDim) return;
    const L = a.hidden.length;
    const top = this.dActs[L]!;
    for (let k = 0; k < top.length; k++) top[k] = dz[f + k]!;
    for (let l = L - 1; l >= 0; l--) {
      const x = this.acts[l]!;
      const y = this.acts[l + 1]!;
      const dy = this.dActs[l + 1]!;
      const dx = this.dActs[l]!;
      const w = p.layerW[l]!;
      const gw = g.layerW[l]!;
      const gb = g.layerB[l]!;
      const nIn = x.length;
      const nOut = y.length;
      // ReLU: no gradient where the unit was off (tfjs uses the same x > 0 step).
      for (let o = 0; o < nOut; o++) {
        if (!(y[o]! > 0)) dy[o] = 0;
        gb[o]! += dy[o]!;
      }
      for (let r = 0; r < nIn; r++) {
        const xr = x[r]!;
        const base = r * nOut;
        let s = 0;
        for (let o = 0; o < nOut; o++) {
          const d = dy[o]!;
          gw[base + o]! += xr * d;
          s += w[base + o]! * d;
        }
        dx[r] = s;
      }
    }
    const m = a.mlpDim;
    const dx0 = this.dActs[0]!;
    for (let k = 0; k < m; k++) {
      g.userMlp[u * m + k]! += dx0[k]!;
      g.itemMlp[i * m + k]! += dx0[m + k]!;
    }
  }

  private touch(u: number, i: number): void {
    if (!this.userMark[u]) {
      this.userMark[u] = 1;
      this.touchedUsers.push(u);
    }
    if (!this.itemMark[i]) {
      this.itemMark[i] = 1;
      this.touchedItems.push(i);
    }
  }

  /**
   * One optimizer step on the mean BCE over a batch; returns the summed loss.
   * userRows/itemRows/labels are read from `start` for `count` samples.
   */
  trainBatch(
    userRows: ArrayLike<number>,
    itemRows: ArrayLike<number>,
    labels: ArrayLike<number>,
    start: number,
    count: number,
    lr: number,
    optimizer: NcfOptimizer = 'sgd',
  ): number {
    let loss = 0;
    const scale = 1 / count;
    for (let s = start; s < start + count; s++) {
      const u = userRows[s]!;
      const i = itemRows[s]!;
      const y = labels[s]!;
      const logit = this.forward(u, i);
      loss += bceWithLogit(logit, y);
      this.backward(u, i, (sigmoid(logit) - y) * scale);
    }
    this.addPenaltyGradients();
    if (optimizer === 'adam') this.adamStep(lr);
    else this.sgdStep(lr);
    this.clearTouched();
    return loss;
  }

  /** Adds the L2 and proximal terms' gradients (NcfNetOptions) to the batch's gradients. */
  private addPenaltyGradients(): void {
    const { l2 = 0, proximal } = this.options;
    const mu = proximal?.mu ?? 0;
    if (mu > 0)
      for (let i = 0; i < this.itemMark.length; i++) {
        if (this.itemMark[i]) continue;
        this.itemMark[i] = 1;
        this.touchedItems.push(i);
      }
    if (l2 > 0) this.forEachSlice((pick, from, to) => addScaled(pick(this.grads), pick(this.params), undefined, l2, from, to));
    if (mu > 0) this.forEachShared((pick, from, to) => addScaled(pick(this.grads), pick(this.params), pick(proximal!.anchor), mu, from, to));
  }

  /** Like forEachSlice over the shared parameters only: every local item row, then the dense tensors. */
  private forEachShared(visit: (pick: (q: NcfParams) => Float32Array, from: number, to: number) => void): void {
    const a = this.arch;
    const all = (pick: (q: NcfParams) => Float32Array) => visit(pick, 0, pick(this.params).length);
    if (a.gmfDim) all((q) => q.itemGmf);
    if (a.mlpDim) all((q) => q.itemMlp);
    if (a.itemBias) all((q) => q.itemBias);
    for (let l = 0; l < a.hidden.length; l++) {
      all((q) => q.layerW[l]!);
      all((q) => q.layerB[l]!);
    }
    all((q) => q.outW);
    all((q) => q.outB);
  }

  /** Plain SGD on the rows the batch touched and the dense layers; clears their gradients. */
  private sgdStep(lr: number): void {
    const update = (param: Float32Array, grad: Float32Array, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        param[k]! -= lr * grad[k]!;
        grad[k] = 0;
      }
    };
    this.forEachSlice((pick, from, to) => update(pick(this.params), pick(this.grads), from, to));
  }

  /**
   * Adam as tf.train.adam computes it: m and v in float32, bias-corrected by the running products
   * of beta1 and beta2, step lr·m̂/(√v̂ + ε) with ε the float32 backends' epsilon (1e-7).
   * adamRows 'all' updates every row of the tables each step, as tfjs does on a dense variable
   * (a row's moments decay and its momentum keeps moving it after its last gradient); 'touched'
   * updates only the rows the batch reached (LazyAdam; for full-catalogue centralized training).
   */
  private adamStep(lr: number): void {
    const a = this.arch;
    const state = (this.adam ??= {
      m: zeroParams(a, this.userMark.length, this.itemMark.length),
      v: zeroParams(a, this.userMark.length, this.itemMark.length),
      accBeta1: 1,
      accBeta2: 1,
    });
    // tfjs keeps the running products in float32 variables; round the same way.
    state.accBeta1 = Math.fround(state.accBeta1 * ADAM_BETA1);
    state.accBeta2 = Math.fround(state.accBeta2 * ADAM_BETA2);
    const c1 = Math.fround(1 - state.accBeta1);
    const c2 = Math.fround(1 - state.accBeta2);
    const update = (param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        const g = grad[k]!;
        const mk = (m[k] = ADAM_BETA1 * m[k]! + (1 - ADAM_BETA1) * g);
        const vk = (v[k] = ADAM_BETA2 * v[k]! + (1 - ADAM_BETA2) * g * g);
        param[k]! -= (lr * (mk / c1)) / (Math.sqrt(vk / c2) + ADAM_EPSILON);
        grad[k] = 0;
      }
    };
    this.forEachSlice((pick, from, to) => update(pick(this.params), pick(this.grads), pick(state.m), pick(state.v), from, to), this.options.adamRows === 'all');
  }

  /** Calls `visit` for each span of parameters a step updates: touched (or all) table rows, then every dense tensor. */
  private forEachSlice(visit: (pick: (q: NcfParams) => Float32Array, from: number, to: number) => void, allRows = false): void {
    const a = this.arch;
    const rows = (list: number[], width: number, pick: (q: NcfParams) => Float32Array) => {
      if (width === 0) return;
      if (allRows) visit(pick, 0, pick(this.params).length);
      else for (const r of list) visit(pick, r * width, (r + 1) * width);
    };
    rows(this.touchedUsers, a.gmfDim, (q) => q.userGmf);
    rows(this.touchedUsers, a.mlpDim, (q) => q.userMlp);
    rows(this.touchedItems, a.gmfDim, (q) => q.itemGmf);
    rows(this.touchedItems, a.mlpDim, (q) => q.itemMlp);
    if (a.itemBias) rows(this.touchedItems, 1, (q) => q.itemBias);
    const dense = (pick: (q: NcfParams) => Float32Array) => visit(pick, 0, pick(this.params).length);
    for (let l = 0; l < a.hidden.length; l++) {
      dense((q) => q.layerW[l]!);
      dense((q) => q.layerB[l]!);
    }
    dense((q) => q.outW);
    dense((q) => q.outB);
  }

  private clearTouched(): void {
    for (const u of this.touchedUsers) this.userMark[u] = 0;
    for (const i of this.touchedItems) this.itemMark[i] = 0;
    this.touchedUsers = [];
    this.touchedItems = [];
  }
}
