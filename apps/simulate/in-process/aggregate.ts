import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import type { LocalFitResult } from '@fedrec/models/ncf/engine/local-fit.js';
import { denseEntries, itemTableEntries, itemTableWidths, zeroParams } from '@fedrec/models/ncf/engine/params.js';

/**
 * The FedAvg sums of the aggregation contract, kept in the sparse form local results come in:
 * Σ n_i Δ_i for dense tensors, Σ w_ir Δ_ir and Σ w_ir per item row, Σ n_i. Sums merge, so
 * worker threads can each hold a partial one.
 */
export interface FedSums {
  totalExamples: number;
  dense: Map<string, Float64Array>;
  rows: Map<string, Float64Array>;
  rowWeights: Float64Array;
  clients: number;
  lossSum: number;
}

export function emptySums(a: NcfArch): FedSums {
  const p = zeroParams(a, 0, a.numItems);
  return {
    totalExamples: 0,
    dense: new Map(denseEntries(a, p).map(([n, t]) => [n, new Float64Array(t.length)])),
    rows: new Map(itemTableEntries(a, p).map(([n, t]) => [n, new Float64Array(t.length)])),
    rowWeights: new Float64Array(a.numItems),
    clients: 0,
    lossSum: 0,
  };
}

export function addResult(a: NcfArch, sums: FedSums, r: LocalFitResult): void {
  const n = r.numExamples;
  sums.totalExamples += n;
  sums.clients++;
  sums.lossSum += r.loss;
  for (const [name, d] of r.denseDeltas) {
    const acc = sums.dense.get(name)!;
    for (let k = 0; k < d.length; k++) acc[k]! += n * d[k]!;
  }
  for (const [name, width] of itemTableWidths(a)) {
    const d = r.itemDeltas.get(name)!;
    const acc = sums.rows.get(name)!;
    r.localItems.forEach((item, local) => {
      const w = r.rowCounts[local]!;
      for (let k = 0; k < width; k++) acc[item * width + k]! += w * d[local * width + k]!;
    });
  }
  r.localItems.forEach((item, local) => {
    sums.rowWeights[item]! += r.rowCounts[local]!;
  });
}

export function mergeSums(into: FedSums, from: FedSums): void {
  into.totalExamples += from.totalExamples;
  into.clients += from.clients;
  into.lossSum += from.lossSum;
  const add = (x: Float64Array, y: Float64Array) => {
    for (let k = 0; k < x.length; k++) x[k]! += y[k]!;
  };
  for (const [n, t] of from.dense) add(into.dense.get(n)!, t);
  for (const [n, t] of from.rows) add(into.rows.get(n)!, t);
  add(into.rowWeights, from.rowWeights);
}

/**
 * Applies the contract in place on the shared tensors: dense += serverLr·Σ nΔ / Σ n;
 * item row r += serverLr·Σ w_r Δ_r / Σ w_r (unchanged when no client touched it).
 */
export function applySums(a: NcfArch, shared: Map<string, Float32Array>, sums: FedSums, serverLr: number): void {
  if (sums.totalExamples > 0) {
    for (const [name, acc] of sums.dense) {
      const t = shared.get(name)!;
      for (let k = 0; k < t.length; k++) t[k]! += (serverLr * acc[k]!) / sums.totalExamples;
    }
  }
  for (const [name, width] of itemTableWidths(a)) {
    const t = shared.get(name)!;
    const acc = sums.rows.get(name)!;
    for (let r = 0; r < a.numItems; r++) {
      const w = sums.rowWeights[r]!;
      if (w <= 0) continue;
      for (let k = r * width; k < (r + 1) * width; k++) t[k]! += (serverLr * acc[k]!) / w;
    }
  }
}
