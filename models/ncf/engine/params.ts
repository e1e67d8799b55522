import { T, type NcfArch } from '../arch.js';

/**
 * NCF parameters as flat arrays. User and item tables hold any number of rows: the full tables
 * in centralized training, a device's one user row and its gathered item rows in federated training.
 */
export interface NcfParams {
  userGmf: Float32Array;
  userMlp: Float32Array;
  itemGmf: Float32Array;
  itemMlp: Float32Array;
  itemBias: Float32Array;
  /** MLP layer l: weights [in, out] row-major, biases [out]. */
  layerW: Float32Array[];
  layerB: Float32Array[];
  outW: Float32Array;
  outB: Float32Array;
}

export function zeroParams(a: NcfArch, userRows: number, itemRows: number): NcfParams {
  let width = 2 * a.mlpDim;
  const layerW: Float32Array[] = [];
  const layerB: Float32Array[] = [];
  for (const h of a.hidden) {
    layerW.push(new Float32Array(width * h));
    layerB.push(new Float32Array(h));
    width = h;
  }
  return {
    userGmf: new Float32Array(userRows * a.gmfDim),
    userMlp: new Float32Array(userRows * a.mlpDim),
    itemGmf: new Float32Array(itemRows * a.gmfDim),
    itemMlp: new Float32Array(itemRows * a.mlpDim),
    itemBias: new Float32Array(a.itemBias ? itemRows : 0),
    layerW,
    layerB,
    outW: new Float32Array(a.learnedOutput ? a.gmfDim + (a.mlpDim ? width : 0) : 0),
    outB: new Float32Array(a.learnedOutput ? 1 : 0),
  };
}

/** The dense (non-table) shared tensors by manifest name, in a fixed order. */
export function denseEntries(a: NcfArch, p: NcfParams): Array<[string, Float32Array]> {
  const out: Array<[string, Float32Array]> = [];
  a.hidden.forEach((_, l) => {
    out.push([T.layerW(l), p.layerW[l]!], [T.layerB(l), p.layerB[l]!]);
  });
  if (a.learnedOutput) out.push([T.outW, p.outW], [T.outB, p.outB]);
  return out;
}

/** The rowwise item tables by manifest name with their row width. */
export function itemTableEntries(a: NcfArch, p: NcfParams): Array<[string, Float32Array, number]> {
  const out: Array<[string, Float32Array, number]> = [];
  if (a.gmfDim) out.push([T.itemGmf, p.itemGmf, a.gmfDim]);
  if (a.mlpDim) out.push([T.itemMlp, p.itemMlp, a.mlpDim]);
  if (a.itemBias) out.push([T.itemBias, p.itemBias, 1]);
  return out;
}

/** The user tables by (private) manifest name with their row width. */
export function userTableEntries(a: NcfArch, p: NcfParams): Array<[string, Float32Array, number]> {
  const out: Array<[string, Float32Array, number]> = [];
  if (a.gmfDim) out.push([T.userGmf, p.userGmf, a.gmfDim]);
  if (a.mlpDim) out.push([T.userMlp, p.userMlp, a.mlpDim]);
  return out;
}

/** Names and row widths of the rowwise item tables, without allocating them. */
export function itemTableWidths(a: NcfArch): Array<[string, number]> {
  return itemTableEntries(a, zeroParams(a, 0, 0)).map(([name, , width]) => [name, width]);
}
