import type { NcfArch } from '../arch.js';
import { T } from '../arch.js';

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

interface Projection {
  table: Float32Array;
  w0: Float32Array;
  checksum: number;
  /** numItems × h0: each item's half of the first MLP layer, W0_itemᵀ q_i. */
  proj: Float32Array;
}

/**
 * The item half of the first MLP layer depends on the shared weights only, so it is computed once
 * per global model and kept beside that model's body (weakly: it goes when the model goes). A sum
 * over the item table guards against a body changed in place.
 */
const projections = new WeakMap<ArrayBufferLike, Projection[]>();

function tableChecksum(t: Float32Array): number {
  let s = 0;
  for (let i = 0; i < t.length; i++) s += t[i]! * ((i & 7) + 1);
  return s;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function itemProjection(itemMlp: Float32Array, w0: Float32Array, n: number, m: number, h0: number): Float32Array {
  const checksum = tableChecksum(itemMlp);
  const list = projections.get(itemMlp.buffer) ?? [];
  const hit = list.find(
    (p) => p.table.byteOffset === itemMlp.byteOffset && p.table.length === itemMlp.length && p.checksum === checksum && sameValues(p.w0, w0),
  );
  if (hit) return hit.proj;
  const proj = new Float32Array(n * h0);
  for (let i = 0; i < n; i++) {
    const qo = i * m;
    const po = i * h0;
    for (let r = 0; r < m; r++) {
      const x = itemMlp[qo + r]!;
      if (x === 0) continue;
      const row = (m + r) * h0;
      for (let o = 0; o < h0; o++) proj[po + o]! += x * w0[row + o]!;
    }
  }
  // One projection per table: a new model replaces the old one's entry.
  projections.set(itemMlp.buffer, [...list.filter((p) => p.table.byteOffset !== itemMlp.byteOffset), { table: itemMlp, w0: w0.slice(), checksum, proj }]);
  return proj;
}

/**
 * Logits of one user against every item of the catalogue in one dense pass over the shared item
 * tables, read in place: no gathered copy of the tables and no per-call list of item ids (what
 * scoring through scoreItemsJs costs for a whole catalogue). The GMF branch's output weights and
 * the user's half of the first MLP layer fold into per-user vectors; the item half of that layer is
 * cached per model (itemProjection); each item then costs the rest of the MLP and two dot products.
 * Same maths as NcfNet.forward (the SDK's tests check them against each other).
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
  const itemGmf = f ? need(shared, T.itemGmf) : new Float32Array(0);
  const bias = a.itemBias ? need(shared, T.itemBias) : undefined;
  for (let i = 0; i < n; i++) {
    let s = outB + (bias ? bias[i]! : 0);
    const o = i * f;
    for (let k = 0; k < f; k++) s += gmfW[k]! * itemGmf[o + k]!;
    out[i] = s;
  }
  if (!m) return out;

  const userMlp = need(priv, T.userMlp);
  const widths = [2 * m, ...a.hidden];
  const w0 = need(shared, T.layerW(0));
  const h0 = widths[1]!;
  const proj = itemProjection(need(shared, T.itemMlp), w0, n, m, h0);
  const base0 = new Float32Array(need(shared, T.layerB(0)));
  for (let r = 0; r < m; r++) {
    const x = userMlp[r]!;
    for (let o = 0; o < h0; o++) base0[o]! += x * w0[r * h0 + o]!;
  }
  const ws = a.hidden.map((_, l) => need(shared, T.layerW(l)));
  const bs = a.hidden.map((_, l) => need(shared, T.layerB(l)));
  const acts = a.hidden.map((h) => new Float32Array(h));
  const L = a.hidden.length;
  const last = acts[L - 1]!;
  const mlpOut = outW ? outW.subarray(f) : new Float32Array(last.length);
  const y0 = acts[0]!;
  for (let i = 0; i < n; i++) {
    const po = i * h0;
    for (let o = 0; o < h0; o++) {
      const v = base0[o]! + proj[po + o]!;
      y0[o] = v > 0 ? v : 0;
    }
    for (let l = 1; l < L; l++) {
      const w = ws[l]!;
      const x = acts[l - 1]!;
      const y = acts[l]!;
      const nIn = x.length;
      const nOut = y.length;
      y.set(bs[l]!);
      for (let r = 0; r < nIn; r++) {
        const xr = x[r]!;
        if (xr === 0) continue;
        const row = r * nOut;
        for (let o = 0; o < nOut; o++) y[o]! += xr * w[row + o]!;
      }
      for (let o = 0; o < nOut; o++) if (y[o]! < 0) y[o] = 0;
    }
    let s = 0;
    for (let k = 0; k < last.length; k++) s += last[k]! * mlpOut[k]!;
    out[i]! += s;
  }
  return out;
}
