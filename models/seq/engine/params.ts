import { S, seqDenseTensors, seqOutTable, type SeqArch } from '../arch.js';
import { gatherRows } from '../../ncf/engine/local-fit.js';

/** The parameters one device trains: gathered rows of its local items plus the dense encoder and head. */
export interface SeqParams {
  itemIn: Float32Array;
  /** The same array as itemIn when the arch is tied. */
  itemOut: Float32Array;
  itemBias: Float32Array;
  pos: Float32Array;
  headW: Float32Array;
  headB: Float32Array;
  /** The long-term term's weight (one value; unused, 0, when the arch has no long-term term). */
  longW: Float32Array;
  /** The attention's A (dim×dim) and position embeddings (L×dim); empty when the arch has no attention. */
  attnQ: Float32Array;
  attnPos: Float32Array;
}

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

/** Local copies: rows `localItems` of the item tables, the dense tensors whole (tied: itemOut is itemIn). */
export function gatherSeqParams(a: SeqArch, shared: Map<string, Float32Array>, localItems: ArrayLike<number>): SeqParams {
  const itemIn = gatherRows(need(shared, S.itemIn), a.dim, localItems);
  return {
    itemIn,
    itemOut: a.tied ? itemIn : gatherRows(need(shared, seqOutTable(a)), a.dim, localItems),
    itemBias: gatherRows(need(shared, S.itemBias), 1, localItems),
    pos: need(shared, S.pos).slice(),
    headW: need(shared, S.headW).slice(),
    headB: need(shared, S.headB).slice(),
    longW: a.longTerm ? need(shared, S.longW).slice() : new Float32Array(1),
    attnQ: a.attention ? need(shared, S.attnQ).slice() : new Float32Array(0),
    attnPos: a.attention ? need(shared, S.attnPos).slice() : new Float32Array(0),
  };
}

/** Item tables by manifest name (tied: no `item_out`). */
export function seqItemEntries(a: SeqArch, p: SeqParams): Array<[string, Float32Array]> {
  return [[S.itemIn, p.itemIn], ...(a.tied ? [] : ([[S.itemOut, p.itemOut]] as Array<[string, Float32Array]>)), [S.itemBias, p.itemBias]];
}

/** Dense tensors by manifest name, in seqDenseTensors' order (`long_w` only with the long-term term, `attn_q` and `attn_pos` only with attention). */
export function seqDenseEntries(a: SeqArch, p: SeqParams): Array<[string, Float32Array]> {
  const byName: Record<string, Float32Array> = {
    [S.pos]: p.pos,
    [S.headW]: p.headW,
    [S.headB]: p.headB,
    [S.longW]: p.longW,
    [S.attnQ]: p.attnQ,
    [S.attnPos]: p.attnPos,
  };
  return seqDenseTensors(a).map(([name]) => [name, byName[name]!]);
}
