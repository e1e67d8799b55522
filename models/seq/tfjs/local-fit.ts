import * as tf from '@tensorflow/tfjs';
import type { LocalFitOptions, LocalFitResult } from '../../ncf/engine/local-fit.js';
import type { LocalPlan } from '../../ncf/engine/plan.js';
import { TimeSlicer } from '../../yield-to-event-loop.js';
import { S, type SeqArch } from '../arch.js';
import { checkSeqFit, seqResult } from '../engine/local-fit.js';
import { longTermScale, windowStart } from '../engine/long-term.js';
import { gatherSeqParams, type SeqParams } from '../engine/params.js';
import { inCatalogue } from '../engine/score.js';
import type { SeqPlan } from '../plan.js';

interface SeqVariables {
  itemIn: tf.Variable;
  itemOut: tf.Variable;
  itemBias: tf.Variable;
  pos: tf.Variable;
  headW: tf.Variable;
  headB: tf.Variable;
  /** Only with the long-term term. */
  longW?: tf.Variable;
  /** Only with attention: A (dim×dim) and the position embeddings (L×dim). */
  attnQ?: tf.Variable;
  attnPos?: tf.Variable;
}

function makeVariables(a: SeqArch, p: SeqParams, nLocal: number): SeqVariables {
  const v = (values: Float32Array, shape: number[]) => {
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true);
    initial.dispose();
    return variable;
  };
  const itemIn = v(p.itemIn, [nLocal, a.dim]);
  return {
    itemIn,
    // Tied: one variable read twice, so autodiff sums its input and output gradients.
    itemOut: a.tied ? itemIn : v(p.itemOut, [nLocal, a.dim]),
    itemBias: v(p.itemBias, [nLocal, 1]),
    pos: v(p.pos, [a.seqLen]),
    headW: v(p.headW, [a.dim, a.dim]),
    headB: v(p.headB, [a.dim]),
    ...(a.longTerm ? { longW: v(p.longW, [1]) } : {}),
    ...(a.attention ? { attnQ: v(p.attnQ, [a.dim, a.dim]), attnPos: v(p.attnPos, [a.seqLen, a.dim]) } : {}),
  };
}

const allVariables = (v: SeqVariables) => [
  ...new Set([v.itemIn, v.itemOut, v.itemBias, v.pos, v.headW, v.headB, ...[v.longW, v.attnQ, v.attnPos].filter((x) => x !== undefined)]),
];

/**
 * tf.gather under a custom gradient that scatters back with tf.scatterND (sums repeated rows):
 * gather's own gradient, UnsortedSegmentSum, is missing on wasm (as in models/ncf/tfjs/local-fit.ts).
 */
function pick(table: tf.Tensor, rows: tf.Tensor1D, indices: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((t) => {
    const value = tf.gather(t as tf.Tensor2D, rows) as tf.Tensor2D;
    return { value, gradFunc: (dy) => tf.scatterND(indices, dy as tf.Tensor2D, (t as tf.Tensor2D).shape) };
  });
  return f(table) as tf.Tensor2D;
}

/** A batch's index tensors: context rows (empty slots read row 0 under a zero mask) and target rows. */
interface BatchInputs {
  ctxRows: tf.Tensor1D;
  ctxIndices: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** One-hot of each example's attention query slot (its most recent filled slot): [batch, L]. */
  queryMask: tf.Tensor2D;
  rows: tf.Tensor1D;
  rowIndices: tf.Tensor2D;
  y: tf.Tensor2D;
  /** The long-term window of each example: its position t, the window start, and |H_t|^-α. */
  at?: { t: tf.Tensor1D; tIndices: tf.Tensor2D; lo: tf.Tensor1D; loIndices: tf.Tensor2D; scale: tf.Tensor2D };
}

function batchInputs(a: SeqArch, contexts: Int32Array, rows: Int32Array, labels: Float32Array, positions: Int32Array): BatchInputs {
  const count = rows.length;
  const ctx = contexts.map((r) => (r < 0 ? 0 : r));
  const mask = Float32Array.from(contexts, (r) => (r < 0 ? 0 : 1));
  const lo = positions.map((t) => windowStart(t, a.historyLen));
  return {
    ctxRows: tf.tensor1d(ctx, 'int32'),
    ctxIndices: tf.tensor2d(ctx, [ctx.length, 1], 'int32'),
    mask: tf.tensor2d(mask, [count, a.seqLen]),
    queryMask: tf.tensor2d(queryMaskOf(mask, a.seqLen), [count, a.seqLen]),
    rows: tf.tensor1d(rows, 'int32'),
    rowIndices: tf.tensor2d(rows, [count, 1], 'int32'),
    y: tf.tensor2d(labels, [count, 1]),
    ...(a.longTerm
      ? {
          at: {
            t: tf.tensor1d(positions, 'int32'),
            tIndices: tf.tensor2d(positions, [count, 1], 'int32'),
            lo: tf.tensor1d(lo, 'int32'),
            loIndices: tf.tensor2d(lo, [count, 1], 'int32'),
            scale: tf.tensor2d(
              Float32Array.from(positions, (t, k) => longTermScale(t - lo[k]!)),
              [count, 1],
            ),
          },
        }
      : {}),
  };
}

/** One-hot of the first filled slot of each row of a [rows, L] 0/1 mask (a row of zeros when none is). */
function queryMaskOf(mask: Float32Array, L: number): Float32Array {
  const out = new Float32Array(mask.length);
  for (let k = 0; k < mask.length; k += L) {
    const l = mask.subarray(k, k + L).indexOf(1);
    if (l >= 0) out[k + l] = 1;
  }
  return out;
}

/**
 * The attention pooling of models/seq/engine/attention.ts on [batch, L, dim] context rows: e = rows + P,
 * q = e_query·Aᵀ, α = softmax over the filled slots of q·e_l/√dim (empty slots pushed to -1e9, then
 * zeroed so an empty context pools to 0), a = Σ_l α_l e_l: [batch, dim].
 */
function attend(rows: tf.Tensor3D, mask: tf.Tensor2D, queryMask: tf.Tensor2D, attnQ: tf.Tensor, attnPos: tf.Tensor): tf.Tensor2D {
  const d = rows.shape[2];
  const e = tf.add(rows, attnPos) as tf.Tensor3D;
  const query = tf.sum(tf.mul(e, tf.expandDims(queryMask, 2)), 1) as tf.Tensor2D;
  const q = tf.matMul(query, attnQ as tf.Tensor2D, false, true);
  const z = tf.add(tf.mul(tf.sum(tf.mul(e, tf.expandDims(q, 1)), 2), 1 / Math.sqrt(d)), tf.mul(tf.sub(mask, 1), 1e9));
  const alpha = tf.mul(tf.softmax(z), mask);
  return tf.sum(tf.mul(e, tf.expandDims(alpha, 2)), 1) as tf.Tensor2D;
}

/** The device's sequence as row indices, for the long-term term's running sums. */
interface SequenceInputs {
  rows: tf.Tensor1D;
  indices: tf.Tensor2D;
}

/**
 * h = Σ_l mask·pos[l]·in[ctx_l] (+ the attention pooling with attention; + long_w·v_t with the long-term term, v_t from an exclusive running sum
 * of the sequence's rows: C[t] - C[lo] sums the window, autodiff takes the reverse sum back), then
 * u = h + h·Wᵀ + c: [batch, dim].
 */
function encode(a: SeqArch, v: SeqVariables, b: BatchInputs, count: number, seq: SequenceInputs | undefined): tf.Tensor2D {
  const e = tf.reshape(pick(v.itemIn, b.ctxRows, b.ctxIndices), [count, a.seqLen, a.dim]) as tf.Tensor3D;
  const w = tf.expandDims(tf.mul(b.mask, v.pos), 2);
  let h = tf.sum(tf.mul(e, w), 1) as tf.Tensor2D;
  if (v.attnQ && v.attnPos) h = tf.add(h, attend(e, b.mask, b.queryMask, v.attnQ, v.attnPos)) as tf.Tensor2D;
  if (b.at && seq && v.longW) {
    // Summed along the last axis: tfjs's Cumsum gradient transposes its result wrongly for any other axis.
    const sums = tf.transpose(tf.cumsum(tf.transpose(pick(v.itemIn, seq.rows, seq.indices)), 1, true));
    const window = tf.sub(pick(sums, b.at.t, b.at.tIndices), pick(sums, b.at.lo, b.at.loIndices));
    h = tf.add(h, tf.mul(tf.mul(window, b.at.scale), v.longW)) as tf.Tensor2D;
  }
  return tf.add(tf.add(h, tf.matMul(h, v.headW as tf.Tensor2D, false, true)), v.headB) as tf.Tensor2D;
}

/** Mean BCE on logits, written with ops whose gradients every backend has. */
function meanBce(z: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log(tf.add(1, tf.exp(tf.neg(tf.abs(z))))))) as tf.Scalar;
}

function batchLoss(a: SeqArch, v: SeqVariables, b: BatchInputs, count: number, seq: SequenceInputs | undefined): tf.Scalar {
  const u = encode(a, v, b, count, seq);
  const out = pick(v.itemOut, b.rows, b.rowIndices);
  const bias = pick(v.itemBias, b.rows, b.rowIndices);
  const z = tf.add(tf.sum(tf.mul(u, out), 1, true), bias) as tf.Tensor2D;
  return meanBce(z, b.y);
}

/** The seq model's local training with tfjs on the active backend (wasm, webgl, cpu, ...): plain SGD, as the JS engine. */
export async function fitSeqTf(
  a: SeqArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): Promise<LocalFitResult> {
  const p = checkSeqFit(plan, o);
  const nLocal = p.localItems.length;
  const before = gatherSeqParams(a, shared, p.localItems);
  const vars = makeVariables(a, before, nLocal);
  const varList = allVariables(vars);
  const optimizer = tf.train.sgd(o.learningRate);
  const slicer = new TimeSlicer();
  const L = a.seqLen;
  const seq = sequenceInputs(a, p);
  let loss = 0;
  let seen = 0;
  try {
    for (const { rows, labels, contexts, positions } of p.epochs) {
      for (let s = 0; s < rows.length; s += o.batchSize) {
        const count = Math.min(o.batchSize, rows.length - s);
        const b = batchInputs(
          a,
          contexts.subarray(s * L, (s + count) * L),
          rows.subarray(s, s + count),
          labels.subarray(s, s + count),
          positions.subarray(s, s + count),
        );
        const l = optimizer.minimize(() => batchLoss(a, vars, b, count, seq), true, varList);
        loss += (l ? (await l.data())[0]! : 0) * count;
        seen += count;
        const { at, ...plain } = b;
        tf.dispose([...Object.values(plain), ...Object.values(at ?? {}), ...(l ? [l] : [])]);
        // data() settles as a microtask on cpu and wasm: without this, a fit starves sockets and timers.
        if (slicer.due()) await slicer.pause();
      }
    }
    const itemIn = (await vars.itemIn.data<'float32'>()).slice();
    const after: SeqParams = {
      itemIn,
      itemOut: a.tied ? itemIn : (await vars.itemOut.data<'float32'>()).slice(),
      itemBias: (await vars.itemBias.data<'float32'>()).slice(),
      pos: (await vars.pos.data<'float32'>()).slice(),
      headW: (await vars.headW.data<'float32'>()).slice(),
      headB: (await vars.headB.data<'float32'>()).slice(),
      longW: vars.longW ? (await vars.longW.data<'float32'>()).slice() : new Float32Array(1),
      attnQ: vars.attnQ ? (await vars.attnQ.data<'float32'>()).slice() : new Float32Array(0),
      attnPos: vars.attnPos ? (await vars.attnPos.data<'float32'>()).slice() : new Float32Array(0),
    };
    return seqResult(a, p, before, after, seen ? loss / seen : 0, priv);
  } finally {
    optimizer.dispose();
    tf.dispose([...varList, ...Object.values(seq ?? {})]);
  }
}

function sequenceInputs(a: SeqArch, p: SeqPlan): SequenceInputs | undefined {
  if (!a.longTerm || p.sequence.length === 0) return undefined;
  return { rows: tf.tensor1d(p.sequence, 'int32'), indices: tf.tensor2d(p.sequence, [p.sequence.length, 1], 'int32') };
}

/** Logits of the device's recent sequence against the given items, with tfjs. */
export async function scoreSeqTf(a: SeqArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: Int32Array): Promise<Float32Array> {
  const recent = priv.get(S.recent) ?? new Float32Array(a.seqLen).fill(-1);
  const valid = Array.from(recent, (r) => inCatalogue(a, r));
  const ctx = Int32Array.from(recent, (r, l) => (valid[l] ? r : 0));
  const history = a.longTerm ? Array.from(priv.get(S.history) ?? []).filter((r) => inCatalogue(a, r)) : [];
  // Only the rows the scoring reads: the recent items for the context, the history, the candidates for the output.
  const p = gatherSeqParams(a, shared, Int32Array.from([...ctx, ...history, ...items]));
  const read = a.seqLen + history.length;
  const out = tf.tidy(() => {
    const inRows = tf.tensor2d(p.itemIn.subarray(0, a.seqLen * a.dim), [a.seqLen, a.dim]);
    const w = tf.mul(tf.tensor1d(Float32Array.from(valid, (x) => (x ? 1 : 0))), tf.tensor1d(p.pos));
    let h = tf.matMul(tf.reshape(w, [1, a.seqLen]), inRows);
    if (a.attention) {
      const mask = Float32Array.from(valid, (x) => (x ? 1 : 0));
      const pooled = attend(
        tf.reshape(inRows, [1, a.seqLen, a.dim]),
        tf.tensor2d(mask, [1, a.seqLen]),
        tf.tensor2d(queryMaskOf(mask, a.seqLen), [1, a.seqLen]),
        tf.tensor2d(p.attnQ, [a.dim, a.dim]),
        tf.tensor2d(p.attnPos, [a.seqLen, a.dim]),
      );
      h = tf.add(h, pooled);
    }
    if (history.length > 0) {
      const historyRows = tf.tensor2d(p.itemIn.subarray(a.seqLen * a.dim, read * a.dim), [history.length, a.dim]);
      h = tf.add(h, tf.mul(tf.sum(historyRows, 0, true), p.longW[0]! * longTermScale(history.length)));
    }
    const u = tf.add(tf.add(h, tf.matMul(h, tf.tensor2d(p.headW, [a.dim, a.dim]), false, true)), tf.tensor1d(p.headB));
    const outRows = tf.tensor2d(p.itemOut.subarray(read * a.dim), [items.length, a.dim]);
    const bias = tf.tensor2d(p.itemBias.subarray(read), [items.length, 1]);
    return tf.reshape(tf.add(tf.matMul(outRows, u, false, true), bias), [items.length]);
  });
  try {
    return (await out.data<'float32'>()).slice();
  } finally {
    out.dispose();
  }
}
