import * as tf from '@tensorflow/tfjs';
import type { NcfArch } from '../arch.js';
import { gatherLocalParams, localResult, type LocalFitOptions, type LocalFitResult } from '../engine/local-fit.js';
import { ADAM_BETA1, ADAM_BETA2 } from '../engine/net.js';
import { zeroParams, type NcfParams } from '../engine/params.js';
import { TimeSlicer } from '../../yield-to-event-loop.js';
import type { LocalPlan } from '../engine/plan.js';

/** tf.Variables over the local parameters, keyed like NcfParams. */
interface LocalVariables {
  userGmf?: tf.Variable;
  userMlp?: tf.Variable;
  itemGmf?: tf.Variable;
  itemMlp?: tf.Variable;
  itemBias?: tf.Variable;
  layerW: tf.Variable[];
  layerB: tf.Variable[];
  outW?: tf.Variable;
  outB?: tf.Variable;
}

function makeVariables(a: NcfArch, p: NcfParams, nLocal: number): LocalVariables {
  const v = (values: Float32Array, shape: number[]) => {
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true);
    initial.dispose();
    return variable;
  };
  const vars: LocalVariables = { layerW: [], layerB: [] };
  if (a.gmfDim) {
    vars.userGmf = v(p.userGmf, [1, a.gmfDim]);
    vars.itemGmf = v(p.itemGmf, [nLocal, a.gmfDim]);
  }
  if (a.mlpDim) {
    vars.userMlp = v(p.userMlp, [1, a.mlpDim]);
    vars.itemMlp = v(p.itemMlp, [nLocal, a.mlpDim]);
  }
  if (a.itemBias) vars.itemBias = v(p.itemBias, [nLocal, 1]);
  let width = 2 * a.mlpDim;
  a.hidden.forEach((h, l) => {
    vars.layerW.push(v(p.layerW[l]!, [width, h]));
    vars.layerB.push(v(p.layerB[l]!, [h]));
    width = h;
  });
  if (a.learnedOutput) {
    vars.outW = v(p.outW, [p.outW.length, 1]);
    vars.outB = v(p.outB, [1]);
  }
  return vars;
}

function allVariables(v: LocalVariables): tf.Variable[] {
  return [v.userGmf, v.userMlp, v.itemGmf, v.itemMlp, v.itemBias, ...v.layerW, ...v.layerB, v.outW, v.outB].filter((x): x is tf.Variable => !!x);
}

/** The shared variables (item tables, layers, output): the ones FedProx's proximal term pulls towards the global model. */
function sharedVariables(v: LocalVariables): tf.Variable[] {
  return [v.itemGmf, v.itemMlp, v.itemBias, ...v.layerW, ...v.layerB, v.outW, v.outB].filter((x): x is tf.Variable => !!x);
}

/**
 * One optimizer step on BCE + μ/2·||w − anchor||² over the shared variables, written as the BCE's
 * gradients plus μ·(w − anchor), the same sum the JS engine forms (NcfNet's proximal option); the
 * returned loss is the BCE alone, as without the term.
 */
function proximalStep(optimizer: tf.Optimizer, bce: () => tf.Scalar, varList: tf.Variable[], anchors: Map<tf.Variable, tf.Tensor>, mu: number): tf.Scalar {
  const { value, grads } = tf.variableGrads(bce, varList);
  const total: tf.NamedTensorMap = {};
  for (const variable of varList) {
    const g = grads[variable.name]!;
    const anchor = anchors.get(variable);
    total[variable.name] = anchor ? tf.tidy(() => tf.add(g, tf.mul(mu, tf.sub(variable, anchor)))) : g;
  }
  optimizer.applyGradients(total);
  tf.dispose(Object.values(grads));
  tf.dispose(Object.values(total));
  return value;
}

/** Picks the batch's rows out of a local item table (rows × width → batch × width). */
type RowPicker = (table: tf.Tensor2D) => tf.Tensor2D;

/**
 * Training picks the batch's rows with tf.gather, under a custom gradient that scatters the rows'
 * gradients back with tf.scatterND (which sums repeated rows). gather's own gradient,
 * UnsortedSegmentSum, is missing on wasm and O(rows × table) on cpu; a one-hot matmul costs
 * batch × local rows × width, which for a heavy user is the catalogue. This is batch × width both ways.
 */
function gatherPicker(rows: tf.Tensor1D, indices: tf.Tensor2D): RowPicker {
  return (table) => {
    const pick = tf.customGrad((t) => {
      const value = tf.gather(t as tf.Tensor2D, rows) as tf.Tensor2D;
      return { value, gradFunc: (dy) => tf.scatterND(indices, dy as tf.Tensor2D, (t as tf.Tensor2D).shape) };
    });
    return pick(table) as tf.Tensor2D;
  };
}

/** Scoring needs no gradient and its local table is the candidates in order: every row, as it is. */
const allRows: RowPicker = (table) => table;

/** Logits for a batch of `batch` items, their rows chosen by `pick` from the local item tables. */
function logits(a: NcfArch, v: LocalVariables, batch: number, pick: RowPicker): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  let gmf: tf.Tensor2D | undefined;
  if (v.userGmf && v.itemGmf) {
    const g: tf.Tensor2D = tf.mul(pick(v.itemGmf as tf.Tensor2D), v.userGmf);
    gmf = g;
    parts.push(g);
  }
  if (v.userMlp && v.itemMlp) {
    const ones = tf.ones([batch, 1]) as tf.Tensor2D;
    let x = tf.concat<tf.Tensor2D>([tf.matMul(ones, v.userMlp as tf.Tensor2D) as tf.Tensor2D, pick(v.itemMlp as tf.Tensor2D)], 1);
    v.layerW.forEach((w, l) => {
      x = tf.relu(tf.add(tf.matMul(x, w as tf.Tensor2D), v.layerB[l]!)) as tf.Tensor2D;
    });
    parts.push(x);
  }
  if (!a.learnedOutput) {
    const s = tf.sum(gmf!, 1, true) as tf.Tensor2D;
    return v.itemBias ? (tf.add(s, pick(v.itemBias as tf.Tensor2D)) as tf.Tensor2D) : s;
  }
  const z = parts.length === 1 ? parts[0]! : tf.concat<tf.Tensor2D>(parts, 1);
  return tf.add(tf.matMul(z, v.outW as tf.Tensor2D), v.outB!) as tf.Tensor2D;
}

/** Mean BCE on logits, written with ops whose gradients every backend has. */
function meanBce(z: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log(tf.add(1, tf.exp(tf.neg(tf.abs(z))))))) as tf.Scalar;
}

async function readBack(a: NcfArch, v: LocalVariables, nLocal: number): Promise<NcfParams> {
  const p = zeroParams(a, 1, nLocal);
  const read = async (dst: Float32Array, src: tf.Variable | undefined) => {
    if (src) dst.set(await src.data<'float32'>());
  };
  await read(p.userGmf, v.userGmf);
  await read(p.userMlp, v.userMlp);
  await read(p.itemGmf, v.itemGmf);
  await read(p.itemMlp, v.itemMlp);
  await read(p.itemBias, v.itemBias);
  for (let l = 0; l < a.hidden.length; l++) {
    await read(p.layerW[l]!, v.layerW[l]);
    await read(p.layerB[l]!, v.layerB[l]);
  }
  await read(p.outW, v.outW);
  await read(p.outB, v.outB);
  return p;
}

/** The device trainer's local training with tfjs on the active backend (wasm, webgl, cpu, ...). */
export async function fitLocalTf(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): Promise<LocalFitResult> {
  const before = gatherLocalParams(a, shared, priv, plan.localItems);
  const nLocal = plan.localItems.length;
  const vars = makeVariables(a, before, nLocal);
  const varList = allVariables(vars);
  // Adam with tfjs's defaults (beta1 0.9, beta2 0.999, epsilon = the backend's): the JS engine matches them.
  const optimizer = o.optimizer === 'adam' ? tf.train.adam(o.learningRate, ADAM_BETA1, ADAM_BETA2) : tf.train.sgd(o.learningRate);
  const mu = o.proximalMu ?? 0;
  // The global model the fit starts from, as constants: FedProx's anchor.
  const anchors = new Map<tf.Variable, tf.Tensor>(mu > 0 ? sharedVariables(vars).map((v) => [v, tf.clone(v)]) : []);
  const slicer = new TimeSlicer();
  let loss = 0;
  let seen = 0;
  try {
    for (const { rows, labels } of plan.epochs) {
      for (let s = 0; s < rows.length; s += o.batchSize) {
        const count = Math.min(o.batchSize, rows.length - s);
        const batchRows = rows.subarray(s, s + count);
        const picked = tf.tensor1d(batchRows, 'int32');
        const indices = tf.tensor2d(batchRows, [count, 1], 'int32');
        const y = tf.tensor2d(labels.subarray(s, s + count), [count, 1]);
        const bce = () => meanBce(logits(a, vars, count, gatherPicker(picked, indices)), y);
        const batchLoss = mu > 0 ? proximalStep(optimizer, bce, varList, anchors, mu) : optimizer.minimize(bce, true, varList);
        loss += (batchLoss ? (await batchLoss.data())[0]! : 0) * count;
        seen += count;
        tf.dispose(batchLoss ? [picked, indices, y, batchLoss] : [picked, indices, y]);
        // data() above settles as a microtask on cpu and wasm: without this, a fit starves sockets and timers.
        if (slicer.due()) await slicer.pause();
      }
    }
    const after = await readBack(a, vars, nLocal);
    return localResult(a, plan, before, after, seen ? loss / seen : 0);
  } finally {
    optimizer.dispose();
    tf.dispose(varList);
    tf.dispose([...anchors.values()]);
  }
}

/** Logits for one user's row against given items, with tfjs: memory and time linear in the number of items. */
export async function scoreTf(a: NcfArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: Int32Array): Promise<Float32Array> {
  const p = gatherLocalParams(a, shared, priv, items);
  const vars = makeVariables(a, p, items.length);
  try {
    const out = tf.tidy(() => logits(a, vars, items.length, allRows));
    const values = (await out.data<'float32'>()).slice();
    out.dispose();
    return values;
  } finally {
    tf.dispose(allVariables(vars));
  }
}
