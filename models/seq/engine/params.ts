import { S, type SeqArch } from '../arch.js';
import { gatherRows } from '../../ncf/engine/local-fit.js';

/** The parameters one device trains: gathered rows of its local items plus the dense encoder and head. */
export interface SeqParams {
  itemIn: Float32Array;
  itemOut: Float32Array;
  itemBias: Float32Array;
  pos: Float32Array;
  headW: Float32Array;
  headB: Float32Array;
}

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

/** Local copies: rows `localItems` of the item tables, the dense tensors whole. */
export function gatherSeqParams(a: SeqArch, shared: Map<string, Float32Array>, localItems: ArrayLike<number>): SeqParams {
  return {
    itemIn: gatherRows(need(shared, S.itemIn), a.dim, localItems),
    itemOut: gatherRows(need(shared, S.itemOut), a.dim, localItems),
    itemBias: gatherRows(need(shared, S.itemBias), 1, localItems),
    pos: need(shared, S.pos).slice(),
    headW: need(shared, S.headW).slice(),
    headB: need(shared, S.headB).slice(),
  };
}

/** Item tables by manifest name. */
export function seqItemEntries(p: SeqParams): Array<[string, Float32Array]> {
  return [
    [S.itemIn, p.itemIn],
    [S.itemOut, p.itemOut],
    [S.itemBias, p.itemBias],
  ];
}

/** Dense tensors by manifest name. */
export function seqDenseEntries(p: SeqParams): Array<[string, Float32Array]> {
  return [
    [S.pos, p.pos],
    [S.headW, p.headW],
    [S.headB, p.headB],
  ];
}
