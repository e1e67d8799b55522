import type { SeqArch } from '../arch.js';
import { AttentionPooling } from './attention.js';
import { LongTermSums } from './long-term.js';
import type { SeqParams } from './params.js';

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** BCE of a logit against a 0/1 label, in the stable form tfjs's meanBce uses. */
export const bceWithLogit = (z: number, y: number) => Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));

/**
 * Forward and backward of the sequence model on local rows, with hand-written gradients accumulated
 * into `grads` (the same shapes as the params): one example = one context (L local rows, -1 empty) and
 * one target row. Mini-batch SGD applies and clears the touched rows (`step`). With the long-term
 * term, `setSequence` gives the device's sequence and each example also passes its position.
 */
export class SeqNet {
  readonly grads: SeqParams;
  private readonly h: Float32Array;
  private readonly u: Float32Array;
  private readonly du: Float32Array;
  private readonly dh: Float32Array;
  private readonly touchedIn: Uint8Array;
  private readonly touchedOut: Uint8Array;
  private readonly inRows: number[] = [];
  private readonly outRows: number[] = [];
  private readonly long: LongTermSums | undefined;
  private readonly attention: AttentionPooling | undefined;
  /** v_t and its scale for the last encoded position (-1: no long-term term in h). */
  private readonly v: Float32Array;
  private vScale = 0;
  private position = -1;

  constructor(
    private readonly a: SeqArch,
    readonly p: SeqParams,
    nLocal: number,
  ) {
    const d = a.dim;
    const itemIn = new Float32Array(nLocal * d);
    // Tied: p.itemOut is p.itemIn, so one gradient table takes both uses of a row; `step` applies it
    // once (with the input rows) and clears it, so the output pass finds zeros for rows already applied.
    this.grads = {
      itemIn,
      itemOut: a.tied ? itemIn : new Float32Array(nLocal * d),
      itemBias: new Float32Array(nLocal),
      pos: new Float32Array(a.seqLen),
      headW: new Float32Array(d * d),
      headB: new Float32Array(d),
      longW: new Float32Array(1),
      attnQ: new Float32Array(p.attnQ.length),
      attnPos: new Float32Array(p.attnPos.length),
    };
    this.long = a.longTerm ? new LongTermSums(d, a.historyLen) : undefined;
    this.attention = a.attention ? new AttentionPooling(d, a.seqLen) : undefined;
    this.v = new Float32Array(d);
    this.h = new Float32Array(d);
    this.u = new Float32Array(d);
    this.du = new Float32Array(d);
    this.dh = new Float32Array(d);
    this.touchedIn = new Uint8Array(nLocal);
    this.touchedOut = new Uint8Array(nLocal);
  }

  /** The device's time-ordered sequence as local rows: what the long-term term reads (a no-op without it). */
  setSequence(rows: Int32Array): void {
    this.long?.setSequence(rows);
  }

  /**
   * u for a context (contexts[at .. at+L)) at sequence position t (the long-term term reads the items
   * before it; -1 leaves it out); leaves h and u in the net for backward.
   */
  encode(contexts: Int32Array, at: number, t = -1): Float32Array {
    const { dim: d, seqLen: L } = this.a;
    const { itemIn, pos, headW, headB } = this.p;
    const h = this.h;
    h.fill(0);
    for (let l = 0; l < L; l++) {
      const r = contexts[at + l]!;
      if (r < 0) continue;
      const w = pos[l]!;
      for (let k = 0; k < d; k++) h[k]! += w * itemIn[r * d + k]!;
    }
    this.attention?.forward(itemIn, this.p.attnQ, this.p.attnPos, contexts, at, h);
    this.position = this.long && t >= 0 ? t : -1;
    if (this.long && t >= 0) {
      this.vScale = this.long.vector(itemIn, t, this.v);
      const w = this.p.longW[0]!;
      for (let k = 0; k < d; k++) h[k]! += w * this.v[k]!;
    }
    const u = this.u;
    for (let i = 0; i < d; i++) {
      let s = h[i]! + headB[i]!;
      for (let k = 0; k < d; k++) s += headW[i * d + k]! * h[k]!;
      u[i] = s;
    }
    return u;
  }

  /** Logit of target row `r` under the last encoded context. */
  logit(r: number): number {
    const d = this.a.dim;
    const { itemOut, itemBias } = this.p;
    let s = itemBias[r]!;
    for (let k = 0; k < d; k++) s += this.u[k]! * itemOut[r * d + k]!;
    return s;
  }

  /** Accumulates dLoss/dlogit = g for target r under the last encoded context. */
  backward(contexts: Int32Array, at: number, r: number, g: number): void {
    const { dim: d, seqLen: L } = this.a;
    const { itemIn, itemOut, pos, headW } = this.p;
    const G = this.grads;
    const { h, u, du, dh } = this;
    this.touch(r, this.touchedOut, this.outRows);
    G.itemBias[r]! += g;
    for (let k = 0; k < d; k++) {
      G.itemOut[r * d + k]! += g * u[k]!;
      du[k] = g * itemOut[r * d + k]!;
    }
    // u = h + W h + c: dW = du ⊗ h, dc = du, dh = du + Wᵀ du.
    for (let i = 0; i < d; i++) {
      const dui = du[i]!;
      G.headB[i]! += dui;
      for (let k = 0; k < d; k++) G.headW[i * d + k]! += dui * h[k]!;
    }
    for (let k = 0; k < d; k++) {
      let s = du[k]!;
      for (let i = 0; i < d; i++) s += headW[i * d + k]! * du[i]!;
      dh[k] = s;
    }
    for (let l = 0; l < L; l++) {
      const c = contexts[at + l]!;
      if (c < 0) continue;
      this.touch(c, this.touchedIn, this.inRows);
      const w = pos[l]!;
      let dp = 0;
      for (let k = 0; k < d; k++) {
        dp += dh[k]! * itemIn[c * d + k]!;
        G.itemIn[c * d + k]! += w * dh[k]!;
      }
      G.pos[l]! += dp;
    }
    this.attention?.backward(this.p.attnQ, dh, G.itemIn, G.attnQ, G.attnPos, (row) => this.touch(row, this.touchedIn, this.inRows));
    // h += long_w · v_t: d long_w = dh · v_t; each row in the window takes long_w · |H_t|^-α · dh (at the step).
    if (this.long && this.position >= 0) {
      let dw = 0;
      for (let k = 0; k < d; k++) dw += dh[k]! * this.v[k]!;
      G.longW[0]! += dw;
      this.long.accumulate(this.position, dh, this.p.longW[0]! * this.vScale);
    }
  }

  private touch(r: number, flags: Uint8Array, rows: number[]): void {
    if (flags[r]) return;
    flags[r] = 1;
    rows.push(r);
  }

  /** Plain SGD on everything the batch touched, then clears those gradients. */
  step(lr: number): void {
    const d = this.a.dim;
    const { p, grads: G } = this;
    this.long?.flush(G.itemIn, (r) => this.touch(r, this.touchedIn, this.inRows));
    for (const r of this.inRows) {
      for (let k = r * d; k < (r + 1) * d; k++) {
        p.itemIn[k]! -= lr * G.itemIn[k]!;
        G.itemIn[k] = 0;
      }
      this.touchedIn[r] = 0;
    }
    for (const r of this.outRows) {
      for (let k = r * d; k < (r + 1) * d; k++) {
        p.itemOut[k]! -= lr * G.itemOut[k]!;
        G.itemOut[k] = 0;
      }
      p.itemBias[r]! -= lr * G.itemBias[r]!;
      G.itemBias[r] = 0;
      this.touchedOut[r] = 0;
    }
    this.inRows.length = 0;
    this.outRows.length = 0;
    for (const [x, gx] of [
      [p.pos, G.pos],
      [p.headW, G.headW],
      [p.headB, G.headB],
      [p.longW, G.longW],
      [p.attnQ, G.attnQ],
      [p.attnPos, G.attnPos],
    ] as const) {
      for (let k = 0; k < x.length; k++) {
        x[k]! -= lr * gx[k]!;
        gx[k] = 0;
      }
    }
  }
}
