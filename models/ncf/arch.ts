import type { ModelSpec, TensorSpec, WeightManifest } from '@fedrec/protocol';

/** The NCF family (He et al. 2017) as one architecture with optional branches. */
export type NcfKind = 'mf' | 'gmf' | 'mlp' | 'neumf';

export interface NcfArch {
  kind: NcfKind;
  numItems: number;
  /** Width of the GMF / MF branch (0 when absent). */
  gmfDim: number;
  /** Width of the user and of the item MLP embedding (0 when absent). */
  mlpDim: number;
  /** MLP hidden layer widths, applied to [userMlp, itemMlp]. */
  hidden: number[];
  /** MF: logit = Σ(p ⊙ q) + item bias; the others learn an output layer. */
  learnedOutput: boolean;
  itemBias: boolean;
  /** Std of the normal init of embeddings. */
  initStd: number;
}

/** Tensor names, fixed across the family so trainers and engines agree. */
export const T = {
  userGmf: 'user_gmf',
  userMlp: 'user_mlp',
  itemGmf: 'item_gmf',
  itemMlp: 'item_mlp',
  itemBias: 'item_bias',
  outW: 'out_w',
  outB: 'out_b',
  layerW: (l: number) => `mlp_w${l}`,
  layerB: (l: number) => `mlp_b${l}`,
} as const;

function num(options: ModelSpec['options'], key: string, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`model option ${key}=${String(v)} is not a non-negative number`);
  return n;
}

/** Reads `layers` ("32-16-8" or "32,16,8"). */
function parseLayers(v: ModelSpec['options'][string] | undefined, fallback: number[]): number[] {
  if (v === undefined || v === '') return fallback;
  const layers = String(v)
    .split(/[-,\s]+/)
    .map(Number);
  if (layers.some((n) => !Number.isInteger(n) || n <= 0)) throw new RangeError(`model option layers="${String(v)}" must be positive integers`);
  return layers;
}

/**
 * Options: numItems (required), factors (GMF width; default 16), mlpDim (MLP embedding width;
 * default 2·factors), layers (MLP hidden widths; default "2f-f"), initStd (default 0.1).
 */
export function ncfArch(kind: NcfKind, options: ModelSpec['options']): NcfArch {
  const numItems = num(options, 'numItems', 0);
  if (!Number.isInteger(numItems) || numItems < 1) throw new RangeError('model option numItems must be a positive integer');
  const factors = num(options, 'factors', 16);
  const hasGmf = kind !== 'mlp';
  const hasMlp = kind === 'mlp' || kind === 'neumf';
  return {
    kind,
    numItems,
    gmfDim: hasGmf ? factors : 0,
    mlpDim: hasMlp ? num(options, 'mlpDim', 2 * factors) : 0,
    hidden: hasMlp ? parseLayers(options['layers'], [2 * factors, factors]) : [],
    learnedOutput: kind !== 'mf',
    itemBias: kind === 'mf',
    initStd: num(options, 'initStd', 0.1),
  };
}

/** Every tensor in a fixed order: private user embeddings first, then the shared body. */
export function ncfManifest(a: NcfArch): WeightManifest {
  const tensors: TensorSpec[] = [];
  const add = (name: string, shape: number[], shared: boolean, rowwise = false) => {
    const spec: TensorSpec = { name, shape, dtype: 'float32', shared };
    if (rowwise) spec.rowwise = true;
    tensors.push(spec);
  };
  // A device holds exactly one user: its embeddings are one private row each.
  if (a.gmfDim) add(T.userGmf, [1, a.gmfDim], false);
  if (a.mlpDim) add(T.userMlp, [1, a.mlpDim], false);
  if (a.gmfDim) add(T.itemGmf, [a.numItems, a.gmfDim], true, true);
  if (a.mlpDim) add(T.itemMlp, [a.numItems, a.mlpDim], true, true);
  if (a.itemBias) add(T.itemBias, [a.numItems, 1], true, true);
  let width = 2 * a.mlpDim;
  a.hidden.forEach((h, l) => {
    add(T.layerW(l), [width, h], true);
    add(T.layerB(l), [h], true);
    width = h;
  });
  if (a.learnedOutput) {
    add(T.outW, [a.gmfDim + (a.mlpDim ? width : 0), 1], true);
    add(T.outB, [1], true);
  }
  return { tensors };
}
