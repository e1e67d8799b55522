import type { NcfArch } from '../arch.js';
import { T } from '../arch.js';

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

/**
 * Logits of one user against every item of the catalogue in one dense pass over the shared item
 * tables, read in place: no gathered copy of the tables and no per-call list of item ids (what
 * scoring via scoreItemsJs costs for a whole catalogue). The user's half of the first MLP layer
 * and the GMF branch's output weights are folded into per-user vectors once, so each item costs its
 * item half of the first layer, the rest of the MLP and one dot product. Same maths as NcfNet.forward.
 */
export function scoreCatalogueJs(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  out = new Float32Array(a.numItems),
): Float32Array {
  const n = a.numItems;
  const f = a.gmfDim;
  const m = a.mlpDim;
  // GMF: Σ_k w_k · u_k · q_ik = q_i · (w ⊙ u); MF's weights are all one, plus the item bias.
  const gmfW = new Float32Array(f);
  const outW = a.learnedOutput ? need(shared, T.outW) : undefined;
  const outB = a.learnedOutput ? need(shared, T.outB)[0]! : 0;
  if (f) {
    const u = need(priv, T.userGmf);
    for (let k = 0; k < f; k++) gmfW[k] = u[k]! * (outW ? outW[k]! : 1);
  }
  const itemGmf = f ? need(shared, T.itemGmf) : undefined;
  const bias = a.itemBias ? need(shared, T.itemBias) : undefined;
  if (!m) {
    for (let i = 0; i < n; i++) {
      let s = outB + (bias ? bias[i]! : 0);
      const o = i * f;
      for (let k = 0; k < f; k++) s += gmfW[k]! * itemGmf![o + k]!;
      out[i] = s;
    }
    return out;
  }
  // MLP: layer 0 is W0ᵀ[u; q] + b0 = (W0_userᵀ u + b0) + W0_itemᵀ q; the user part is per call.
  const userMlp = need(priv, T.userMlp);
  const itemMlp = need(shared, T.itemMlp);
  const widths = [2 * m, ...a.hidden];
  const w0 = need(shared, T.layerW(0));
  const h0 = widths[1]!;
  const base0 = new Float32Array(need(shared, T.layerB(0)));
  for (let r = 0; r < m; r++) {
    const x = userMlp[r]!;
    for (let o = 0; o < h0; o++) base0[o]! += x * w0[r * h0 + o]!;
  }
  const layers = a.hidden.map((_, l) => ({ w: need(shared, T.layerW(l)), b: need(shared, T.layerB(l)), nIn: widths[l]!, nOut: widths[l + 1]! }));
  const acts = a.hidden.map((h) => new Float32Array(h));
  const top = a.hidden.length - 1;
  const mlpOut = outW ? outW.subarray(f) : undefined;
  for (let i = 0; i < n; i++) {
    let s = outB;
    if (f) {
      const o = i * f;
      for (let k = 0; k < f; k++) s += gmfW[k]! * itemGmf![o + k]!;
    }
    const y0 = acts[0]!;
    y0.set(base0);
    const qo = i * m;
    for (let r = 0; r < m; r++) {
      const x = itemMlp[qo + r]!;
      if (x === 0) continue;
      const row = (m + r) * h0;
      for (let o = 0; o < h0; o++) y0[o]! += x * w0[row + o]!;
    }
    for (let o = 0; o < h0; o++) if (y0[o]! < 0) y0[o] = 0;
    for (let l = 1; l < layers.length; l++) {
      const { w, b, nIn, nOut } = layers[l]!;
      const x = acts[l - 1]!;
      const y = acts[l]!;
      y.set(b);
      for (let r = 0; r < nIn; r++) {
        const xr = x[r]!;
        if (xr === 0) continue;
        const row = r * nOut;
        for (let o = 0; o < nOut; o++) y[o]! += xr * w[row + o]!;
      }
      for (let o = 0; o < nOut; o++) if (y[o]! < 0) y[o] = 0;
    }
    if (mlpOut) {
      const z = acts[top]!;
      for (let k = 0; k < z.length; k++) s += z[k]! * mlpOut[k]!;
    }
    out[i] = s;
  }
  return out;
}
