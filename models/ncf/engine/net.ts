import type { NcfArch } from '../arch.js';
import { zeroParams, type NcfParams } from './params.js';

/** Numerically stable binary cross-entropy on a logit. */
export function bceWithLogit(logit: number, label: number): number {
  return Math.max(logit, 0) - logit * label + Math.log1p(Math.exp(-Math.abs(logit)));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Hand-written NCF forward/backward in plain JS: the fast path for simulation and
 * centralized baselines (the device trainer uses tfjs; tests check the two agree).
 * Mini-batch SGD on the mean BCE, gradients accumulated sample by sample.
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
  /** Adam moments, allocated on first Adam step (lazy on embedding rows, like LazyAdam). */
  private adam?: { m: NcfParams; v: NcfParams; t: number };

  constructor(
    readonly arch: NcfArch,
    readonly params: NcfParams,
    userRows: number,
    itemRows: number,
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
   * One SGD step on the mean BCE over a batch; returns the summed loss.
   * userRows/itemRows/labels are read from `start` for `count` samples.
   */
  trainBatch(
    userRows: ArrayLike<number>,
    itemRows: ArrayLike<number>,
    labels: ArrayLike<number>,
    start: number,
    count: number,
    lr: number,
    optimizer: 'sgd' | 'adam' = 'sgd',
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
    this.applyStep(lr, optimizer);
    return loss;
  }

  /** Updates everything touched by the batch (SGD or Adam), then clears the gradients. */
  private applyStep(lr: number, optimizer: 'sgd' | 'adam'): void {
    const a = this.arch;
    const p = this.params;
    const g = this.grads;
    let update: (param: Float32Array, grad: Float32Array, m: Float32Array | undefined, v: Float32Array | undefined, from: number, to: number) => void;
    let mp: NcfParams | undefined;
    let vp: NcfParams | undefined;
    if (optimizer === 'adam') {
      this.adam ??= { m: zeroParams(a, this.userMark.length, this.itemMark.length), v: zeroParams(a, this.userMark.length, this.itemMark.length), t: 0 };
      const t = ++this.adam.t;
      const b1 = 0.9;
      const b2 = 0.999;
      const step = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      mp = this.adam.m;
      vp = this.adam.v;
      update = (param, grad, m, v, from, to) => {
        for (let k = from; k < to; k++) {
          const gk = grad[k]!;
          const mk = (m![k] = b1 * m![k]! + (1 - b1) * gk);
          const vk = (v![k] = b2 * v![k]! + (1 - b2) * gk * gk);
          param[k]! -= (step * mk) / (Math.sqrt(vk) + 1e-8);
          grad[k] = 0;
        }
      };
    } else {
      update = (param, grad, _m, _v, from, to) => {
        for (let k = from; k < to; k++) {
          param[k]! -= lr * grad[k]!;
          grad[k] = 0;
        }
      };
    }
    const rows = (list: number[], width: number, pick: (q: NcfParams) => Float32Array) => {
      for (const r of list) update(pick(p), pick(g), mp && pick(mp), vp && pick(vp), r * width, (r + 1) * width);
    };
    rows(this.touchedUsers, a.gmfDim, (q) => q.userGmf);
    rows(this.touchedUsers, a.mlpDim, (q) => q.userMlp);
    rows(this.touchedItems, a.gmfDim, (q) => q.itemGmf);
    rows(this.touchedItems, a.mlpDim, (q) => q.itemMlp);
    if (a.itemBias) rows(this.touchedItems, 1, (q) => q.itemBias);
    const dense = (pick: (q: NcfParams) => Float32Array) => update(pick(p), pick(g), mp && pick(mp), vp && pick(vp), 0, pick(p).length);
    for (let l = 0; l < a.hidden.length; l++) {
      dense((q) => q.layerW[l]!);
      dense((q) => q.layerB[l]!);
    }
    dense((q) => q.outW);
    dense((q) => q.outB);
    for (const u of this.touchedUsers) this.userMark[u] = 0;
    for (const i of this.touchedItems) this.itemMark[i] = 0;
    this.touchedUsers = [];
    this.touchedItems = [];
  }
}
