import type { NcfArch } from '../arch.js';
import { TimeSlicer } from '../../yield-to-event-loop.js';
import { NcfNet, type NcfOptimizer } from './net.js';
import { denseEntries, itemTableEntries, userTableEntries, zeroParams, type NcfParams } from './params.js';
import type { LocalPlan } from './plan.js';

/** What one device's local training produced, in the sparse form the aggregator needs. */
export interface LocalFitResult {
  localItems: Int32Array;
  rowCounts: Float32Array;
  /** New minus global rows of each rowwise item table, local row order (nLocal × width). */
  itemDeltas: Map<string, Float32Array>;
  /** New minus global dense shared tensors. */
  denseDeltas: Map<string, Float32Array>;
  /** The device's private tensors after training. */
  privateAfter: Map<string, Float32Array>;
  /** Examples in one epoch: the FedAvg weight. */
  numExamples: number;
  /** Mean training BCE over all epochs. */
  loss: number;
}

export interface LocalFitOptions {
  learningRate: number;
  batchSize: number;
  /** 'sgd' (default) or 'adam' (tf.train.adam's semantics; fresh moments each fit, over the local rows only). */
  optimizer?: NcfOptimizer;
  /** FedProx's μ: adds μ/2·||w − w_global||² on the shared parameters to the local loss (0 or absent = plain FedAvg). */
  proximalMu?: number;
}

/** Copies rows `rows` of a row-major table into a new small table. */
export function gatherRows(table: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) out.set(table.subarray(rows[r]! * width, (rows[r]! + 1) * width), r * width);
  return out;
}

function need(map: Map<string, Float32Array>, name: string): Float32Array {
  const t = map.get(name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}

/** Local parameters: the device's user rows and the gathered rows of the items it touches. */
export function gatherLocalParams(a: NcfArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, localItems: Int32Array): NcfParams {
  const p = zeroParams(a, 1, localItems.length);
  for (const [name, table, width] of itemTableEntries(a, p)) table.set(gatherRows(need(shared, name), width, localItems));
  for (const [name, dense] of denseEntries(a, p)) dense.set(need(shared, name));
  for (const [name, row] of userTableEntries(a, p)) row.set(need(priv, name));
  return p;
}

/** Local params minus their starting point, as a LocalFitResult. */
export function localResult(a: NcfArch, plan: LocalPlan, before: NcfParams, after: NcfParams, loss: number): LocalFitResult {
  const diff = (x: Float32Array, y: Float32Array) => x.map((v, k) => v - y[k]!);
  const itemsBefore = itemTableEntries(a, before);
  const denseBefore = denseEntries(a, before);
  return {
    localItems: plan.localItems,
    rowCounts: plan.rowCounts,
    itemDeltas: new Map(itemTableEntries(a, after).map(([name, t], k) => [name, diff(t, itemsBefore[k]![1])])),
    denseDeltas: new Map(denseEntries(a, after).map(([name, t], k) => [name, diff(t, denseBefore[k]![1])])),
    privateAfter: new Map(userTableEntries(a, after).map(([name, t]) => [name, t.slice()])),
    numExamples: plan.examplesPerEpoch,
    loss,
  };
}

/**
 * Plain-JS local training on the gathered rows, one batch per step: the generator yields after
 * each batch so the async driver can give the event loop a turn, and returns the result.
 */
function* fitLocalJsSteps(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): Generator<void, LocalFitResult, void> {
  const before = gatherLocalParams(a, shared, priv, plan.localItems);
  const params = gatherLocalParams(a, shared, priv, plan.localItems);
  // Adam over every local row each step, as tf.train.adam does on the tfjs engine's local variables.
  const mu = o.proximalMu ?? 0;
  const net = new NcfNet(a, params, 1, plan.localItems.length, { adamRows: 'all', ...(mu > 0 ? { proximal: { mu, anchor: before } } : {}) });
  let loss = 0;
  let seen = 0;
  for (const { rows, labels } of plan.epochs) {
    const users = new Int32Array(rows.length);
    for (let s = 0; s < rows.length; s += o.batchSize) {
      const count = Math.min(o.batchSize, rows.length - s);
      loss += net.trainBatch(users, rows, labels, s, count, o.learningRate, o.optimizer ?? 'sgd');
      seen += count;
      yield;
    }
  }
  return localResult(a, plan, before, params, seen ? loss / seen : 0);
}

/** Plain-JS local training in one go (the in-process simulation's workers, which have no socket to keep). */
export function fitLocalJs(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): LocalFitResult {
  const steps = fitLocalJsSteps(a, shared, priv, plan, o);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * The same training, giving the event loop a turn every few milliseconds (TimeSlicer): a device
 * in the middle of a fit keeps answering Socket.IO pings and its UI stays live.
 */
export async function fitLocalJsSliced(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<LocalFitResult> {
  const steps = fitLocalJsSteps(a, shared, priv, plan, o);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (slicer.due()) await slicer.pause();
  }
}
