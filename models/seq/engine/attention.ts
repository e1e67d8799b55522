/**
 * Self-attention pooling over the context, for the hand-written engine: SASRec's last-position output
 * (Kang & McAuley, ICDM 2018), simplified to one head and one block with no value projection, no layer
 * norm and no feed-forward layer, and the query/key projections folded into one d×d matrix A = W_Qᵀ·W_K:
 *
 *   e_l = in[s_l] + P[l]                    (keys and values: the context items plus position embeddings)
 *   q   = A · e_0                           (the query: the most recent filled slot, SASRec's last position)
 *   α_l = softmax_l(q · e_l / √d)            (over the filled slots only)
 *   a   = Σ_l α_l · e_l
 *
 * The model adds a to the position-weighted sum (models/seq/arch.ts), which stays as the residual path;
 * the softmax is the non-linearity: a context item's weight now depends on how it relates to the latest
 * item, which the linear sum cannot express. A starts at I / initStd² (models/seq/init.ts). Per example
 * O(L·dim + dim²), the head's order; a local fit takes 2.4x the CPU of one without it (README "The table").
 */
export class AttentionPooling {
  private readonly e: Float32Array;
  private readonly alpha: Float32Array;
  private readonly q: Float32Array;
  private readonly dq: Float32Array;
  private readonly dAlpha: Float64Array;
  private readonly slots: Int32Array;
  private query = -1;
  private readonly scale: number;

  constructor(
    private readonly dim: number,
    private readonly seqLen: number,
  ) {
    this.e = new Float32Array(seqLen * dim);
    this.alpha = new Float32Array(seqLen);
    this.q = new Float32Array(dim);
    this.dq = new Float32Array(dim);
    this.dAlpha = new Float64Array(seqLen);
    this.slots = new Int32Array(seqLen);
    this.scale = 1 / Math.sqrt(dim);
  }

  /**
   * Adds a to h for the context rows[at .. at+L) (row indices into itemIn, < 0 empty); keeps what
   * backward needs. An empty context adds nothing.
   */
  forward(itemIn: Float32Array, attnQ: Float32Array, attnPos: Float32Array, rows: ArrayLike<number>, at: number, h: Float32Array): void {
    const { dim: d, seqLen: L, e, alpha, q, slots } = this;
    this.query = -1;
    for (let l = 0; l < L; l++) {
      const r = rows[at + l]!;
      slots[l] = r;
      if (r < 0) continue;
      if (this.query < 0) this.query = l;
      for (let k = 0; k < d; k++) e[l * d + k] = itemIn[r * d + k]! + attnPos[l * d + k]!;
    }
    if (this.query < 0) return;
    const e0 = this.query * d;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += attnQ[i * d + k]! * e[e0 + k]!;
      q[i] = s;
    }
    let max = -Infinity;
    for (let l = 0; l < L; l++) {
      if (slots[l]! < 0) continue;
      let z = 0;
      for (let k = 0; k < d; k++) z += q[k]! * e[l * d + k]!;
      alpha[l] = z * this.scale;
      max = Math.max(max, alpha[l]!);
    }
    let sum = 0;
    for (let l = 0; l < L; l++) {
      if (slots[l]! < 0) continue;
      alpha[l] = Math.exp(alpha[l]! - max);
      sum += alpha[l]!;
    }
    for (let l = 0; l < L; l++) {
      if (slots[l]! < 0) {
        alpha[l] = 0;
        continue;
      }
      alpha[l]! /= sum;
      for (let k = 0; k < d; k++) h[k]! += alpha[l]! * e[l * d + k]!;
    }
  }

  /**
   * Accumulates the gradients of the last forward given dLoss/dh: into the context rows (gradIn, each
   * row passed to `touch`), A (gradQ) and P (gradPos).
   */
  backward(attnQ: Float32Array, dh: ArrayLike<number>, gradIn: Float32Array, gradQ: Float32Array, gradPos: Float32Array, touch: (row: number) => void): void {
    if (this.query < 0) return;
    const { dim: d, seqLen: L, e, alpha, q, dq, dAlpha, slots, scale } = this;
    // dα_l = dh·e_l; softmax: dz_l = α_l (dα_l - Σ_m α_m dα_m); z_l = q·e_l/√d.
    let mean = 0;
    for (let l = 0; l < L; l++) {
      if (slots[l]! < 0) continue;
      let s = 0;
      for (let k = 0; k < d; k++) s += dh[k]! * e[l * d + k]!;
      dAlpha[l] = s;
      mean += alpha[l]! * s;
    }
    dq.fill(0);
    for (let l = 0; l < L; l++) {
      const r = slots[l]!;
      if (r < 0) continue;
      const dz = alpha[l]! * (dAlpha[l]! - mean) * scale;
      touch(r);
      for (let k = 0; k < d; k++) {
        dq[k]! += dz * e[l * d + k]!;
        const de = alpha[l]! * dh[k]! + dz * q[k]!;
        gradIn[r * d + k]! += de;
        gradPos[l * d + k]! += de;
      }
    }
    // q = A·e_0: dA = dq ⊗ e_0, de_0 += Aᵀ·dq.
    const l0 = this.query;
    const r0 = slots[l0]!;
    for (let i = 0; i < d; i++) {
      const dqi = dq[i]!;
      for (let k = 0; k < d; k++) gradQ[i * d + k]! += dqi * e[l0 * d + k]!;
    }
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += attnQ[i * d + k]! * dq[i]!;
      gradIn[r0 * d + k]! += s;
      gradPos[l0 * d + k]! += s;
    }
  }
}
