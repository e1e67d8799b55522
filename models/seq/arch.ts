import type { ModelSpec, TensorSpec, WeightManifest } from '@fedrec/protocol';

/**
 * A sequence-aware recommender in the family of FPMC's factorized Markov chain (Rendle et al.,
 * WWW 2010) extended to the last L items with learned position weights, as SASRec (Kang & McAuley,
 * ICDM 2018) weighs positions, without the attention block:
 *
 *   h = Σ_l pos[l] · in[s_{t-1-l}]          (the last L items, most recent first; empty slots skipped)
 *   u = h + W·h + c                         (the score head: a residual linear map, W = 0 at init)
 *   logit(j) = u · out[j] + bias[j]
 *
 * With `tied`, out = in: one item table both reads the context and scores the candidates, as SASRec
 * ties them. Half the item rows to learn federatedly, and a device's positives and negatives train the
 * same rows its own sequences read.
 *
 * With `longTerm`, h also gets Fossil's long-term term (He & McAuley, ICDM 2016: FISM's similarity
 * model fused with the Markov chain), the user's taste from the items before the position:
 *
 *   h += long_w · |H|^-α · Σ_{j∈H} in[j]     (H: the last `historyLen` items before the position, α = 0.5)
 *
 * With `attention`, h also gets a self-attention pooling of the context (SASRec's last position, one
 * head, simplified: models/seq/engine/attention.ts), with a query/key matrix A and position embeddings P:
 *
 *   h += Σ_l α_l (in[s_l] + P[l]),  α = softmax_l((A·(in[s_0] + P[0])) · (in[s_l] + P[l]) / √dim)
 *
 * The device's user state is its recent item sequence (private tensors of item ids: the last L for the
 * Markov term, the last `historyLen` for the long-term one), so there is no user embedding to train and
 * a new event changes the next recommendations at once.
 */
export interface SeqArch {
  numItems: number;
  /** Embedding width (input and output item embeddings, the head). */
  dim: number;
  /** How many recent items the state holds (L). */
  seqLen: number;
  initStd: number;
  /** One item table for input and output (no `item_out` tensor). */
  tied: boolean;
  /** Fossil's long-term term over the last `historyLen` items (a private `history_items` tensor, a shared `long_w`). */
  longTerm: boolean;
  /** How many past items the long-term term reads (N); the state holds them when `longTerm`. */
  historyLen: number;
  /** Self-attention pooling over the context (shared `attn_q`, dim×dim, and `attn_pos`, L×dim). */
  attention: boolean;
}

/** FISM's normalisation |H|^-α: α = 0.5 as in Fossil's and FISM's reported settings. */
export const LONG_TERM_ALPHA = 0.5;

/** Tensor names: the private recent sequence, the rowwise item tables, the dense encoder and head. */
export const S = {
  recent: 'recent_items',
  history: 'history_items',
  itemIn: 'item_in',
  itemOut: 'item_out',
  itemBias: 'item_bias',
  pos: 'pos_w',
  headW: 'head_w',
  headB: 'head_b',
  longW: 'long_w',
  attnQ: 'attn_q',
  attnPos: 'attn_pos',
} as const;

/** The score function PFedRec keeps per device (client-sdk/trainers/pfedrec.ts). */
export const SEQ_SCORE_FUNCTION = [S.headW, S.headB] as const;

/** Rowwise item tables in manifest order, with their widths (no `item_out` when tied). */
export function seqItemTables(a: SeqArch): Array<[name: string, width: number]> {
  return [[S.itemIn, a.dim], ...(a.tied ? [] : ([[S.itemOut, a.dim]] as Array<[string, number]>)), [S.itemBias, 1]];
}

/** The table candidates are scored against: `item_out`, or `item_in` when tied. */
export function seqOutTable(a: SeqArch): string {
  return a.tied ? S.itemIn : S.itemOut;
}

/**
 * Dense shared tensors in manifest order, with their shapes: the one list the manifest (seqManifest) and the
 * engines' parameter entries (engine/params.ts seqDenseEntries) follow.
 */
export function seqDenseTensors(a: SeqArch): Array<[name: string, shape: number[]]> {
  const dense: Array<[string, number[]]> = [
    [S.pos, [a.seqLen]],
    [S.headW, [a.dim, a.dim]],
    [S.headB, [a.dim]],
  ];
  if (a.longTerm) dense.push([S.longW, [1]]);
  if (a.attention) dense.push([S.attnQ, [a.dim, a.dim]], [S.attnPos, [a.seqLen, a.dim]]);
  return dense;
}

function num(options: ModelSpec['options'], key: string, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`model option ${key}=${String(v)} is not a non-negative number`);
  return n;
}

function positiveInt(options: ModelSpec['options'], key: string, fallback: number): number {
  const n = num(options, key, fallback);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`model option ${key} must be a positive integer`);
  return n;
}

function flag(options: ModelSpec['options'], key: string): boolean {
  const v = options[key];
  if (v === undefined || v === false || v === 0) return false;
  if (v === true || v === 1) return true;
  throw new RangeError(`model option ${key}=${String(v)} is not a boolean`);
}

/**
 * Options: numItems (required), factors (embedding width; default 16), seqLen (default 5), initStd (default 0.1),
 * tied (default false), longTerm (default false), historyLen (default 300: the whole history of 94% of ML-100K's users),
 * attention (default false).
 */
export function seqArch(options: ModelSpec['options']): SeqArch {
  return {
    numItems: positiveInt(options, 'numItems', 0),
    dim: positiveInt(options, 'factors', 16),
    seqLen: positiveInt(options, 'seqLen', 5),
    initStd: num(options, 'initStd', 0.1),
    tied: flag(options, 'tied'),
    longTerm: flag(options, 'longTerm'),
    historyLen: positiveInt(options, 'historyLen', 300),
    attention: flag(options, 'attention'),
  };
}

/** The private state tensors (item ids, -1 empty) with their lengths: the recent sequence, and the history when `longTerm`. */
export function seqStateTensors(a: SeqArch): Array<[name: string, length: number]> {
  return [[S.recent, a.seqLen], ...(a.longTerm ? ([[S.history, a.historyLen]] as Array<[string, number]>) : [])];
}

/** Every tensor in a fixed order: the private state first, then the shared body. */
export function seqManifest(a: SeqArch): WeightManifest {
  const tensors: TensorSpec[] = seqStateTensors(a).map(([name, n]) => ({ name, shape: [1, n], dtype: 'float32', shared: false }));
  for (const [name, width] of seqItemTables(a)) tensors.push({ name, shape: [a.numItems, width], dtype: 'float32', shared: true, rowwise: true });
  for (const [name, shape] of seqDenseTensors(a)) tensors.push({ name, shape, dtype: 'float32', shared: true });
  return { tensors };
}
