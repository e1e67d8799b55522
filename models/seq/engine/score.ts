import { S, seqOutTable, type SeqArch } from '../arch.js';
import { AttentionPooling } from './attention.js';
import { longTermScale } from './long-term.js';

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

/** Ids outside the catalogue (a stale state after the catalogue shrank) count as empty slots. */
export const inCatalogue = (a: SeqArch, item: number) => item >= 0 && item < a.numItems;

/**
 * The user vector u of the device's recent sequence (private `recent_items`, -1 empty) under the shared
 * weights, with the long-term term over `history_items` when the arch has it.
 */
export function userVectorJs(a: SeqArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>): Float32Array {
  const d = a.dim;
  const itemIn = need(shared, S.itemIn);
  const pos = need(shared, S.pos);
  const headW = need(shared, S.headW);
  const headB = need(shared, S.headB);
  const recent = need(priv, S.recent);
  const h = new Float32Array(d);
  for (let l = 0; l < a.seqLen; l++) {
    const item = recent[l]!;
    if (!inCatalogue(a, item)) continue;
    for (let k = 0; k < d; k++) h[k]! += pos[l]! * itemIn[item * d + k]!;
  }
  if (a.attention) {
    const rows = Array.from(recent, (item) => (inCatalogue(a, item) ? item : -1));
    new AttentionPooling(d, a.seqLen).forward(itemIn, need(shared, S.attnQ), need(shared, S.attnPos), rows, 0, h);
  }
  if (a.longTerm) {
    const history = Array.from(need(priv, S.history)).filter((item) => inCatalogue(a, item));
    const w = need(shared, S.longW)[0]! * longTermScale(history.length);
    for (const item of history) for (let k = 0; k < d; k++) h[k]! += w * itemIn[item * d + k]!;
  }
  const u = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let s = h[i]! + headB[i]!;
    for (let k = 0; k < d; k++) s += headW[i * d + k]! * h[k]!;
    u[i] = s;
  }
  return u;
}

/** Logits of the device's next item against the given items. */
export function scoreSeqJs(a: SeqArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: ArrayLike<number>): Float32Array {
  const d = a.dim;
  const u = userVectorJs(a, shared, priv);
  const itemOut = need(shared, seqOutTable(a));
  const bias = need(shared, S.itemBias);
  const out = new Float32Array(items.length);
  for (let j = 0; j < items.length; j++) {
    const r = items[j]!;
    let s = bias[r]!;
    for (let k = 0; k < d; k++) s += u[k]! * itemOut[r * d + k]!;
    out[j] = s;
  }
  return out;
}

/** Logits against every item in row order: one dense pass for recommend(). */
export function scoreSeqAllJs(a: SeqArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>): Float32Array {
  return scoreSeqJs(
    a,
    shared,
    priv,
    Int32Array.from({ length: a.numItems }, (_, i) => i),
  );
}
