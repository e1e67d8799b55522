import { rowLayout } from '@fedrec/protocol';
import type { AggregateSums, WeightManifest, Weights } from '@fedrec/protocol';

/**
 * The averaged delta (FedAvg's pseudo-gradient): Σ n_i Δ_i / Σ n_i per plain element,
 * Σ w_ir Δ_ir / Σ w_ir per row of a rowwise tensor (0 for a row nobody touched).
 */
export function averageDelta(manifest: WeightManifest, sums: AggregateSums): Float64Array {
  const out = new Float64Array(sums.weightedDeltaSum.length);
  for (const seg of rowLayout(manifest).segments) {
    const t = seg.table;
    if (!t) {
      if (sums.weightSum <= 0) continue;
      const scale = 1 / sums.weightSum;
      for (let i = seg.offset, end = seg.offset + seg.size; i < end; i++) out[i] = sums.weightedDeltaSum[i]! * scale;
      continue;
    }
    for (let r = 0; r < t.rows; r++) {
      const total = sums.rowWeightSums[t.rowWeightOffset + r]!;
      if (total <= 0) continue;
      const start = t.offset + r * t.cols;
      for (let i = start, end = start + t.cols; i < end; i++) out[i] = sums.weightedDeltaSum[i]! / total;
    }
  }
  return out;
}

/**
 * Which elements the round's sums say anything about (1) and which they do not (0): plain elements
 * when some client reported examples, rows of rowwise tensors when some client touched them.
 * Stateful strategies mask with it so a row nobody touched neither moves nor ages its state.
 */
export function reportedElements(manifest: WeightManifest, sums: AggregateSums): Uint8Array {
  const out = new Uint8Array(sums.weightedDeltaSum.length);
  for (const seg of rowLayout(manifest).segments) {
    const t = seg.table;
    if (!t) {
      if (sums.weightSum > 0) out.fill(1, seg.offset, seg.offset + seg.size);
      continue;
    }
    for (let r = 0; r < t.rows; r++) {
      if (sums.rowWeightSums[t.rowWeightOffset + r]! > 0) out.fill(1, t.offset + r * t.cols, t.offset + (r + 1) * t.cols);
    }
  }
  return out;
}

/** global + serverLearningRate · step, as a fresh float32 body (the global is not modified). */
export function applyStep(global: Weights, step: Float64Array, serverLearningRate: number): Weights {
  const body = new Float32Array(global.body.length);
  for (let i = 0; i < body.length; i++) body[i] = global.body[i]! + serverLearningRate * step[i]!;
  return { manifest: global.manifest, body };
}

/**
 * FedAvg in one call: new = global + serverLr · averageDelta, fused into one pass that allocates only the
 * next model's float32 body (no float64 step the size of the model). Same arithmetic as
 * applyStep(global, averageDelta(...)), element for element.
 */
export function fedAvg(global: Weights, sums: AggregateSums, serverLearningRate: number): Weights {
  const g = global.body;
  // Starts as a copy, so an element outside every shared segment keeps the global's value, as with applyStep.
  const body = Float32Array.from(g);
  const s = sums.weightedDeltaSum;
  for (const seg of rowLayout(global.manifest).segments) {
    const t = seg.table;
    if (!t) {
      const scale = sums.weightSum > 0 ? 1 / sums.weightSum : 0;
      for (let i = seg.offset, end = seg.offset + seg.size; i < end; i++) body[i] = g[i]! + serverLearningRate * (scale === 0 ? 0 : s[i]! * scale);
      continue;
    }
    for (let r = 0; r < t.rows; r++) {
      const total = sums.rowWeightSums[t.rowWeightOffset + r]!;
      const start = t.offset + r * t.cols;
      for (let i = start, end = start + t.cols; i < end; i++) body[i] = g[i]! + serverLearningRate * (total > 0 ? s[i]! / total : 0);
    }
  }
  return { manifest: global.manifest, body };
}

/** Example-weighted mean of each metric over the results that report it (results with no examples count for nothing). */
export function weightedMetricMean(results: ReadonlyArray<{ numExamples: number; metrics: Record<string, number> }>): Record<string, number> {
  const sums = new Map<string, { total: number; weight: number }>();
  for (const { numExamples, metrics } of results) {
    if (!(numExamples > 0)) continue;
    for (const [name, value] of Object.entries(metrics)) {
      if (!Number.isFinite(value)) continue;
      const s = sums.get(name) ?? { total: 0, weight: 0 };
      s.total += numExamples * value;
      s.weight += numExamples;
      sums.set(name, s);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, s] of sums) out[name] = s.total / s.weight;
  return out;
}
