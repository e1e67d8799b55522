import { rowLayout, type RowLayout } from '@fedrec/protocol/row-layout.js';
import type { AggregateSums } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import type { SecAggConfig } from '@fedrec/protocol';
import {
  clip,
  cryptoUniformWords,
  dequantizeSum,
  sumErrorBound,
  quantize,
  quantizeInto,
  uniformsFromWords,
  type UniformSource,
  type UniformWords,
} from './quantize.js';
import { DeltaQuantizer } from './quantize-kernel.js';

/**
 * What a client puts under the mask, so the server learns only the FedAvg sums of the contract:
 *   [ w·Δ for every shared element | n_i | w_ir for every row of every rowwise tensor ( | b_i − 1/2 ) ]
 * The last word only under adaptive DP clipping (layout.clipBit): the device's clipping bit, shifted and noised
 * by client-sdk/privacy, quantized over its own range ±(1/2 + 8·σ) for a per-device noise std σ (not ±maxWeight:
 * DP presets set maxWeight 1, and clipping the noise would bias the count); the server learns only Σ over contributors.
 * where w is n_i for ordinary elements and the row weight w_ir for rows of rowwise tensors.
 * Δ is clipped to ±clipRange and weights to [0, maxWeight], so w·Δ is quantized over ±clipRange·maxWeight
 * and weights over ±maxWeight (same bits).
 */
export interface ContributionLayout extends RowLayout {
  /** deltaLength + 1 + rowWeightsLength (+ 1 with clipBit): the masked vector's length in uint32 words. */
  vectorLength: number;
  /** Whether the vector ends with the clipping bit (adaptive DP clipping under secure aggregation). */
  clipBit: boolean;
  /** The bit's quantization range (0 without a bit). */
  clipBitRange: number;
}

/**
 * The protocol's row layout of the manifest, plus the length of the vector a client masks. `clipBitStd`: the round
 * masks each device's clipping bit, which carries noise of this std (0: none); both sides derive the range from it.
 */
export function contributionLayout(manifest: WeightManifest, options: { clipBitStd?: number | undefined } = {}): ContributionLayout {
  const layout = rowLayout(manifest);
  const std = options.clipBitStd;
  if (std !== undefined && !(std >= 0 && Number.isFinite(std))) throw new RangeError(`clipping-bit noise std must be a finite number ≥ 0, got ${std}`);
  const clipBit = std !== undefined;
  // 8σ: a device's noised bit falls outside with probability ~1e-15, so clipping does not bias the count.
  const clipBitRange = clipBit ? 0.5 + 8 * std : 0;
  return { ...layout, clipBit, clipBitRange, vectorLength: layout.deltaLength + 1 + layout.rowWeightsLength + (clipBit ? 1 : 0) };
}

/** A client's training result, as in the aggregation contract. */
export interface ClientContribution {
  numExamples: number;
  delta: Float32Array;
  /** One weight per row of each rowwise tensor; when absent every row weighs numExamples. */
  rowWeights?: Float32Array;
  /** The device's shifted, noised clipping bit (required exactly when the layout has clipBit). */
  clipBit?: number;
}

function clipWeight(w: number, maxWeight: number): number {
  if (!Number.isFinite(w) || w < 0) throw new RangeError(`weight must be finite and non-negative, got ${w}`);
  return Math.min(w, maxWeight);
}

/** The factor that brings `delta` to L2 norm ≤ bound (1 without a bound or when already inside). */
export function l2Scale(delta: ArrayLike<number>, bound: number | undefined): number {
  if (bound === undefined) return 1;
  let s = 0;
  for (let i = 0; i < delta.length; i++) s += delta[i]! * delta[i]!;
  return scaleToBound(s, bound);
}

/** l2Scale from the delta's sum of squares (NaN inside: 1, and quantizing then reports the NaN). */
function scaleToBound(sumOfSquares: number, bound: number): number {
  const norm = Math.sqrt(sumOfSquares);
  return norm > bound ? bound / norm : 1;
}

/**
 * Readies encodeContribution for `layout` ahead of the call: a device runs it when a round starts, before training,
 * so the quantization after training (on the round's critical path) finds the kernel's memory made at its size and
 * its pages touched, the kernel run once and the platform's CSPRNG loaded. Optional: the first encodeContribution
 * does the same work itself. Free once the thread has quantized a vector of this size (a device's later rounds).
 */
export function prepareContribution(layout: ContributionLayout): void {
  // Once the thread has quantized a vector this long, its memory and the CSPRNG are ready: later rounds skip the work.
  if (DeltaQuantizer.warm(...quantizerSizes(layout, true))) return;
  const kernel = DeltaQuantizer.forThread(...quantizerSizes(layout, true));
  if (!kernel) return;
  cryptoUniformWords.fill(kernel.dither);
  kernel.load(new Float32Array(layout.deltaLength));
  kernel.weights.fill(0);
  kernel.quantizeRows(0, 1, layout.vectorLength, 0, { scale: 1, clipAt: 1, range: 1, bits: 16, stochastic: true });
}

/** The kernel quantizer's sizes for `layout`: values, dither words, weights (n, the row weights, the clipping bit). */
function quantizerSizes(layout: ContributionLayout, stochastic: boolean): [number, number, number] {
  return [layout.vectorLength, stochastic ? layout.vectorLength : 0, layout.vectorLength - layout.deltaLength];
}

/**
 * The quantized vector a client masks. `random` drives stochastic rounding. By default the dither comes in bulk
 * (cryptoUniformWords) and the delta is quantized by the WebAssembly kernel (quantize-kernel.ts), fast from the first
 * call; a UniformSource (the tests' seeded ones) runs the JavaScript path, one draw per value in index order as
 * always. Word k of a UniformWords source is the k-th uniform either path draws, so for the same draws both paths
 * give the same bits (the tests hold them to it).
 */
export function encodeContribution(
  c: ClientContribution,
  layout: ContributionLayout,
  config: SecAggConfig,
  random: UniformSource | UniformWords = cryptoUniformWords,
): Uint32Array {
  if (c.delta.length !== layout.deltaLength) throw new RangeError(`delta has ${c.delta.length} values, layout wants ${layout.deltaLength}`);
  if (layout.clipBit !== (c.clipBit !== undefined)) {
    throw new RangeError(layout.clipBit ? 'this round masks a clipping bit and the contribution has none' : 'a clipping bit in a round that does not mask one');
  }
  if (c.clipBit !== undefined && !Number.isFinite(c.clipBit)) throw new RangeError(`clipping bit must be finite, got ${c.clipBit}`);
  if (c.rowWeights && c.rowWeights.length !== layout.rowWeightsLength) {
    throw new RangeError(`rowWeights has ${c.rowWeights.length} values, layout wants ${layout.rowWeightsLength}`);
  }
  const { clipRange, maxWeight, quantizationBits: bits } = config;
  const n = clipWeight(c.numExamples, maxWeight);
  const rowWeights = new Float64Array(layout.rowWeightsLength);
  for (let r = 0; r < rowWeights.length; r++) rowWeights[r] = c.rowWeights ? clipWeight(c.rowWeights[r]!, maxWeight) : n;

  const stochastic = config.rounding === 'stochastic';
  const out = new Uint32Array(layout.vectorLength);
  // A UniformSource is drawn one value at a time, which the kernel cannot do; rounding to nearest draws nothing.
  const kernel = stochastic && typeof random === 'function' ? null : DeltaQuantizer.forThread(...quantizerSizes(layout, stochastic));
  if (kernel) {
    if (stochastic) (random as UniformWords).fill(kernel.dither);
    quantizeOnKernel(kernel, c, n, rowWeights, layout, config);
    kernel.copyTo(out);
    return out;
  }
  let rng: UniformSource | undefined;
  if (stochastic && typeof random !== 'function') {
    const words = new Uint32Array(layout.vectorLength);
    random.fill(words);
    rng = uniformsFromWords(words);
  } else rng = stochastic ? (random as UniformSource) : undefined;
  quantizeInto(weightedDelta(c.delta, n, rowWeights, layout, config), clipRange * maxWeight, bits, out, 0, rng);
  out[layout.deltaLength] = quantize(n, maxWeight, bits, rng);
  quantizeInto(rowWeights, maxWeight, bits, out, layout.deltaLength + 1, rng);
  if (c.clipBit !== undefined) out[layout.vectorLength - 1] = quantize(c.clipBit, layout.clipBitRange, bits, rng);
  return out;
}

/** The JavaScript path's values to quantize: the L2 bound first (the whole delta scaled, direction kept), then the element clip, times the weight. */
function weightedDelta(delta: Float32Array, n: number, rowWeights: Float64Array, layout: ContributionLayout, config: SecAggConfig): Float64Array {
  const { clipRange } = config;
  const scale = l2Scale(delta, config.normBound);
  const scaled = scale === 1 ? delta : delta.map((x) => x * scale);
  // Per-element weight: n everywhere, the row's weight inside rowwise tensors.
  const weighted = new Float64Array(layout.deltaLength);
  for (let i = 0; i < weighted.length; i++) weighted[i] = n * clip(scaled[i]!, clipRange);
  for (const t of layout.tables) {
    for (let r = 0; r < t.rows; r++) {
      const w = rowWeights[t.rowWeightOffset + r]!;
      const start = t.offset + r * t.cols;
      for (let j = start; j < start + t.cols; j++) weighted[j] = w * clip(scaled[j]!, clipRange);
    }
  }
  return weighted;
}

/**
 * The whole vector on the kernel, run by run in index order (so the dither words go in the JavaScript path's order and a
 * non-finite value is reported at the same index): the delta with weight n between tables and each row's weight
 * inside, then n, the row weights and the clipping bit as weights of the 1s after the delta (x = w · 1 = w).
 */
function quantizeOnKernel(
  kernel: DeltaQuantizer,
  c: ClientContribution,
  n: number,
  rowWeights: Float64Array,
  layout: ContributionLayout,
  config: SecAggConfig,
): void {
  const { clipRange, maxWeight, quantizationBits: bits, normBound } = config;
  const d = layout.deltaLength;
  kernel.load(c.delta);
  const scale = normBound === undefined ? 1 : scaleToBound(kernel.sumOfSquares(d), normBound);
  kernel.weights[0] = n;
  kernel.weights.set(rowWeights, 1);
  const stochastic = config.rounding === 'stochastic';
  const q = { scale, clipAt: clipRange, range: clipRange * maxWeight, bits, stochastic };
  let at = 0;
  for (const t of layout.tables) {
    kernel.quantizeRows(at, 1, t.offset - at, 0, q);
    kernel.quantizeRows(t.offset, t.rows, t.cols, 1 + t.rowWeightOffset, q);
    at = t.offset + t.rows * t.cols;
  }
  kernel.quantizeRows(at, 1, d - at, 0, q);
  const weights = { scale: 1, clipAt: 1, range: maxWeight, bits, stochastic };
  kernel.quantizeRows(d, 1 + rowWeights.length, 1, 0, weights); // n, then the row weights
  if (c.clipBit !== undefined) {
    kernel.weights[1 + rowWeights.length] = c.clipBit;
    kernel.quantizeRows(layout.vectorLength - 1, 1, 1, 1 + rowWeights.length, { ...weights, range: layout.clipBitRange });
  }
}

/** Decodes the unmasked sum of `contributors` clients. */
export function decodeAggregate(sum: Uint32Array, contributors: number, layout: ContributionLayout, config: SecAggConfig): AggregateSums {
  if (sum.length !== layout.vectorLength) throw new RangeError(`sum has ${sum.length} words, layout wants ${layout.vectorLength}`);
  const { clipRange, maxWeight, quantizationBits: bits } = config;
  const d = layout.deltaLength;
  return {
    weightedDeltaSum: dequantizeSum(sum.subarray(0, d), clipRange * maxWeight, bits, contributors),
    weightSum: dequantizeSum(sum.subarray(d, d + 1), maxWeight, bits, contributors)[0]!,
    rowWeightSums: dequantizeSum(sum.subarray(d + 1, d + 1 + layout.rowWeightsLength), maxWeight, bits, contributors),
    contributors,
  };
}

/** Σ over contributors of their shifted, noised clipping bits, from the unmasked sum of a clipBit layout. */
export function decodeClipBitSum(sum: Uint32Array, contributors: number, layout: ContributionLayout, config: SecAggConfig): number {
  if (!layout.clipBit) throw new RangeError('this layout carries no clipping bit');
  if (sum.length !== layout.vectorLength) throw new RangeError(`sum has ${sum.length} words, layout wants ${layout.vectorLength}`);
  return dequantizeSum(sum.subarray(layout.vectorLength - 1), layout.clipBitRange, config.quantizationBits, contributors)[0]!;
}

/**
 * Worst-case rounding error of each decoded sum (clipping aside): n·step (stochastic) or n·step/2 (nearest).
 * Weights quantize to steps of maxWeight/(2^(bits-1)-1); a tiny row weight sum is only known to that
 * precision — keep maxWeight near the largest real weight.
 */
export function aggregateErrorBounds(contributors: number, config: SecAggConfig): { weightedDelta: number; weight: number } {
  const stochastic = config.rounding === 'stochastic';
  return {
    weightedDelta: sumErrorBound(config.clipRange * config.maxWeight, config.quantizationBits, contributors, stochastic),
    weight: sumErrorBound(config.maxWeight, config.quantizationBits, contributors, stochastic),
  };
}
