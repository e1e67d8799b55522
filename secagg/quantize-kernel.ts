import {
  BLOCK,
  BR,
  BR_IF,
  ELSE,
  END,
  F32_DEMOTE_F64,
  F32_LOAD,
  F64,
  F64_ABS,
  F64_ADD,
  F64_CONVERT_I32_U,
  F64_DIV,
  F64_FLOOR,
  F64_GE,
  F64_LOAD,
  F64_LT,
  F64_MAX,
  F64_MIN,
  F64_MUL,
  F64_NEG,
  F64_PROMOTE_F32,
  F64_SUB,
  I32,
  I32_ADD,
  I32_EQZ,
  I32_GE_U,
  I32_LOAD,
  I32_SHL,
  I32_SHR_U,
  I32_STORE,
  I32_SUB,
  I32_AND,
  I32_TRUNC_F64_S,
  IF,
  LOOP,
  RETURN,
  SELECT,
  VOID,
  WASM_HEADER,
  f64Const,
  i32Const,
  leb,
  localGet,
  localSet,
  localTee,
  section,
  simd,
  V128,
  wasmName,
} from '@fedrec/protocol/wasm-binary.js';
import { compileKernel, instantiateKernel, WASM_PAGE_BYTES, type WasmMemory } from './wasm-host.js';
import { levels, quantizationStep } from './quantize.js';

/**
 * A client's contribution vector (encodeContribution), quantized by a WebAssembly kernel: the L2 norm's sum of
 * squares, then per element v = fround(delta[i] · scale), x = w · clip(v, ±clipAt), q = round(clip(x, ±range) /
 * step) (to nearest, or floor(· + u_i) with a dither word u_i = word / 2^32), clamped to ±levels, stored as int32.
 *
 * Why a kernel: a device quantizes once a round, so the JavaScript loop runs cold (interpreted until V8 optimizes
 * it) on the round's critical path after training; a WebAssembly module is compiled before its first call.
 * Why it is bit-identical to the JavaScript path (quantizeInto): every step is one IEEE 754 float64 operation with
 * round-to-nearest-even in the same order (f32.demote is Math.fround), two elements at a time in f64x2 lanes (lanes
 * are separate elements, nothing is reassociated; the sum of squares stays one sequential scalar sum); the clips are
 * pmin/pmax, which are JavaScript's `x > b ? b : x` and `x < −b ? −b : x` exactly, NaN and −0 included (and 3x
 * faster here than f64x2.min/max, whose IEEE NaN and signed-zero rules cost V8 an instruction sequence each);
 * Math.round(s) (halves toward +∞) is spelled f = floor(s), s − f ≥ 1/2 ? f + 1 : f, with s − f exact for |s| < 2^52.
 * Hand-encoded with named opcodes like secagg/word-sum.ts; where WebAssembly SIMD is missing or the host is
 * big-endian (wasm memory is little-endian) encodeContribution runs the JavaScript path.
 */

const f32Load = [F32_LOAD, 2, 0];
const f64Load = [F64_LOAD, 3, 0];
const i32Load = [I32_LOAD, 2, 0];
const i32Store = [I32_STORE, 2, 0];
const withLength = (code: number[]) => [...leb(code.length), ...code];
/** f64.max(−bound, f64.min(bound, value)): pushes the clipped value (the clip of quantize.ts; NaN stays NaN). */
const clipped = (bound: number, value: number[]) => [...localGet(bound), F64_NEG, ...localGet(bound), ...value, F64_MIN, F64_MAX];

/**
 * (func $sumSquares (param $p i32) (param $end i32) (result f64) (local $s f64) (local $v f64))
 * $s += v·v for the float32 at byte addresses $p, $p + 4, … below $end, in index order (as l2Scale sums).
 */
// prettier-ignore
const SUM_SQUARES = withLength([
  1, 2, F64, // $s, $v
  BLOCK, VOID, LOOP, VOID,
  ...localGet(0), ...localGet(1), I32_GE_U, BR_IF, 1,
  ...localGet(0), ...f32Load, F64_PROMOTE_F32, ...localTee(3), ...localGet(3), F64_MUL, ...localGet(2), F64_ADD, ...localSet(2),
  ...localGet(0), ...i32Const(4), I32_ADD, ...localSet(0),
  BR, 0,
  END, END,
  ...localGet(2),
  END,
]);

// The two-lane (f64x2) forms of the same operations: the same IEEE results per lane, two elements per step.
const V128_LOAD64_ZERO = [...simd(0x5d), 3, 0]; // two float32 or two uint32 into the low half
const V128_STORE64_LANE0 = [...simd(0x5b), 3, 0, 0]; // the low two int32
const F64X2_SPLAT = simd(0x14);
const F64X2_EXTRACT_LANE0 = [...simd(0x21), 0];
const F64X2_LT = simd(0x49);
const F64X2_GE = simd(0x4c);
const V128_BITSELECT = simd(0x52);
const F32X4_DEMOTE_F64X2_ZERO = simd(0x5e);
const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
const F64X2_FLOOR = simd(0x75);
const I64X2_ALL_TRUE = simd(0xc3);
const F64X2_ABS = simd(0xec);
const F64X2_ADD = simd(0xf0);
const F64X2_SUB = simd(0xf1);
const F64X2_MUL = simd(0xf2);
const F64X2_DIV = simd(0xf3);
const F64X2_PMIN = simd(0xf6);
const F64X2_PMAX = simd(0xf7);
const I32X4_TRUNC_SAT_F64X2_S_ZERO = simd(0xfc);
const F64X2_CONVERT_LOW_I32X4_U = simd(0xff);

// The quantizer's parameters and locals, by index.
const [AT, ROWS, COLS, WEIGHT_AT, DITHER_OFFSET, SCALE, CLIP_AT, RANGE, STEP, TOP, STOCHASTIC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const [P, END_P, W, X, S, Q, END_PAIRS] = [11, 12, 13, 14, 15, 16, 17];
// prettier-ignore
const [V_SCALE, V_CLIP, V_NCLIP, V_RANGE, V_NRANGE, V_STEP, V_TOP, V_NTOP, V_W, V_X, V_S, V_Q, V_INF, V_ONE, V_HALF, V_TWO32] =
  [18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33];
const splat = (value: number[], local: number) => [...value, ...F64X2_SPLAT, ...localSet(local)];
/**
 * clip(value, ±bound) of quantize.ts on both lanes, exactly: pmin(v, b) = b < v ? b : v, then pmax(·, −b) = · < −b ?
 * −b : · (NaN and −0 pass through as in JavaScript; single minpd/maxpd instructions, where f64x2.min/max need a
 * sequence each for IEEE's NaN and signed-zero rules).
 */
const clippedPair = (low: number, high: number, value: number[]) => [...value, ...localGet(high), ...F64X2_PMIN, ...localGet(low), ...F64X2_PMAX];

/**
 * (func $quantize (param $at $rows $cols $weightAt $ditherOffset i32) (param $scale $clipAt $range $step $top f64)
 *   (param $stochastic i32) (result i32))
 * Quantizes $rows × $cols float32 from element $at in place (the int32 replaces the float), row r weighing the
 * float64 at $weightAt + 8r; element i's dither word sits at byte 4i + $ditherOffset. Returns −1, or the index of
 * the first element whose weighted value is not finite (the caller throws, as quantizeInto does). Each row runs in
 * pairs of elements (f64x2), then its odd last element alone.
 */
// prettier-ignore
const QUANTIZE = withLength([
  4, 2, I32, 4, F64, 1, I32, 16, V128, // $p $end; $w $x $s $q; $endPairs; the v128 locals
  ...splat(localGet(SCALE), V_SCALE), ...splat(localGet(CLIP_AT), V_CLIP), ...splat([...localGet(CLIP_AT), F64_NEG], V_NCLIP),
  ...splat(localGet(RANGE), V_RANGE), ...splat([...localGet(RANGE), F64_NEG], V_NRANGE), ...splat(localGet(STEP), V_STEP),
  ...splat(localGet(TOP), V_TOP), ...splat([...localGet(TOP), F64_NEG], V_NTOP),
  ...splat(f64Const(Infinity), V_INF), ...splat(f64Const(1), V_ONE), ...splat(f64Const(0.5), V_HALF), ...splat(f64Const(2 ** -32), V_TWO32),
  ...localGet(AT), ...i32Const(2), I32_SHL, ...localSet(P),
  BLOCK, VOID, LOOP, VOID, // each row
  ...localGet(ROWS), I32_EQZ, BR_IF, 1,
  ...localGet(WEIGHT_AT), ...f64Load, ...localTee(W), ...F64X2_SPLAT, ...localSet(V_W),
  ...localGet(P), ...localGet(COLS), ...i32Const(2), I32_SHL, I32_ADD, ...localTee(END_P),
  ...localGet(COLS), ...i32Const(1), I32_AND, ...i32Const(2), I32_SHL, I32_SUB, ...localSet(END_PAIRS),

  BLOCK, VOID, LOOP, VOID, // each pair of elements of the row
  ...localGet(P), ...localGet(END_PAIRS), I32_GE_U, BR_IF, 1,
  ...localGet(V_W),
  ...clippedPair(V_NCLIP, V_CLIP, [...localGet(P), ...V128_LOAD64_ZERO, ...F64X2_PROMOTE_LOW_F32X4, ...localGet(V_SCALE), ...F64X2_MUL,
    ...F32X4_DEMOTE_F64X2_ZERO, ...F64X2_PROMOTE_LOW_F32X4]),
  ...F64X2_MUL, ...localTee(V_X),
  // a lane not finite: report the first such element (the second when the first lane is finite)
  ...F64X2_ABS, ...localGet(V_INF), ...F64X2_LT, ...I64X2_ALL_TRUE, I32_EQZ, IF, VOID,
  ...localGet(P), ...i32Const(2), I32_SHR_U, ...localGet(V_X), ...F64X2_EXTRACT_LANE0, F64_ABS, ...f64Const(Infinity), F64_LT, I32_ADD, RETURN,
  END,
  ...clippedPair(V_NRANGE, V_RANGE, localGet(V_X)), ...localGet(V_STEP), ...F64X2_DIV, ...localSet(V_S),
  ...localGet(STOCHASTIC), IF, VOID,
  ...localGet(V_S), ...localGet(P), ...localGet(DITHER_OFFSET), I32_ADD, ...V128_LOAD64_ZERO, ...F64X2_CONVERT_LOW_I32X4_U, ...localGet(V_TWO32),
  ...F64X2_MUL, ...F64X2_ADD, ...F64X2_FLOOR, ...localSet(V_Q),
  ELSE,
  ...localGet(V_S), ...F64X2_FLOOR, ...localTee(V_Q), ...localGet(V_ONE), ...F64X2_ADD, ...localGet(V_Q),
  ...localGet(V_S), ...localGet(V_Q), ...F64X2_SUB, ...localGet(V_HALF), ...F64X2_GE, ...V128_BITSELECT, ...localSet(V_Q),
  END,
  ...localGet(P), ...clippedPair(V_NTOP, V_TOP, localGet(V_Q)), ...I32X4_TRUNC_SAT_F64X2_S_ZERO, ...V128_STORE64_LANE0,
  ...localGet(P), ...i32Const(8), I32_ADD, ...localSet(P),
  BR, 0,
  END, END,

  BLOCK, VOID, LOOP, VOID, // the row's odd last element, if any: the same steps on one lane
  ...localGet(P), ...localGet(END_P), I32_GE_U, BR_IF, 1,
  // $x = $w · clip(fround(value · $scale), ±$clipAt)
  ...localGet(W),
  ...clipped(CLIP_AT, [...localGet(P), ...f32Load, F64_PROMOTE_F32, ...localGet(SCALE), F64_MUL, F32_DEMOTE_F64, F64_PROMOTE_F32]),
  F64_MUL, ...localTee(X),
  // not |$x| < ∞ (NaN or ±∞): report the element
  F64_ABS, ...f64Const(Infinity), F64_LT, I32_EQZ, IF, VOID, ...localGet(P), ...i32Const(2), I32_SHR_U, RETURN, END,
  ...clipped(RANGE, localGet(X)), ...localGet(STEP), F64_DIV, ...localSet(S),
  ...localGet(STOCHASTIC), IF, VOID,
  // $q = floor($s + word · 2^-32)
  ...localGet(S), ...localGet(P), ...localGet(DITHER_OFFSET), I32_ADD, ...i32Load, F64_CONVERT_I32_U, ...f64Const(2 ** -32), F64_MUL,
  F64_ADD, F64_FLOOR, ...localSet(Q),
  ELSE,
  // $q = Math.round($s): f = floor($s); $s − f ≥ 0.5 ? f + 1 : f
  ...localGet(S), F64_FLOOR, ...localTee(Q), ...f64Const(1), F64_ADD, ...localGet(Q),
  ...localGet(S), ...localGet(Q), F64_SUB, ...f64Const(0.5), F64_GE, SELECT, ...localSet(Q),
  END,
  ...localGet(P), ...clipped(TOP, localGet(Q)), I32_TRUNC_F64_S, ...i32Store,
  ...localGet(P), ...i32Const(4), I32_ADD, ...localSet(P),
  BR, 0,
  END, END,
  ...localGet(WEIGHT_AT), ...i32Const(8), I32_ADD, ...localSet(WEIGHT_AT),
  ...localGet(ROWS), ...i32Const(1), I32_SUB, ...localSet(ROWS),
  BR, 0,
  END, END,
  ...i32Const(-1),
  END,
]);

// prettier-ignore
const MODULE_BYTES = new Uint8Array([
  ...WASM_HEADER,
  ...section(1, [2,
    0x60, 2, I32, I32, 1, F64, // type 0: (i32, i32) -> f64
    0x60, 11, I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, I32, 1, I32, // type 1: (5 × i32, 5 × f64, i32) -> i32
  ]),
  ...section(2, [1, ...wasmName('env'), ...wasmName('memory'), 0x02, 0x00, 0x01]), // import env.memory, at least 1 page
  ...section(3, [2, 0, 1]),
  ...section(7, [2, ...wasmName('sumSquares'), 0x00, 0, ...wasmName('quantize'), 0x00, 1]),
  ...section(10, [2, ...SUM_SQUARES, ...QUANTIZE]),
]);

interface KernelExports {
  sumSquares(from: number, end: number): number;
  quantize(...args: [number, number, number, number, number, number, number, number, number, number, number]): number;
}

const kernelModule = compileKernel(MODULE_BYTES);

/** Whether encodeContribution quantizes deltas on the WebAssembly kernel on this platform. */
export const quantizeKernel = kernelModule !== null;

let kernelByDefault = true;

/** Turns the kernel off (or back on) in this thread, so tests can run the JavaScript path where the kernel exists. Results are identical either way. */
export function useQuantizeKernel(on: boolean): void {
  kernelByDefault = on;
}

/** The quantizer's settings for one delta (those of quantizeInto, plus the L2 scale and the element clip before the weight). */
export interface KernelQuantization {
  scale: number;
  clipAt: number;
  range: number;
  bits: number;
  stochastic: boolean;
}

/** Bytes of kernel memory for the sizes given (the float64 weights 8-aligned after the values and dither words). */
const bytesFor = (length: number, ditherWords: number, weights: number) => 8 * Math.ceil((4 * length + 4 * ditherWords) / 8) + 8 * weights;

/** One thread's memory and instance, grown when a longer delta comes (a fresh memory per call would cost more than the work). */
let instance: { memory: WasmMemory; exports: KernelExports } | null = null;

/**
 * The kernel's memory laid out for one contribution vector: [values as float32, each overwritten by its int32
 * encoding | dither words | weights as float64]. The values are the delta, then 1s: a run over those quantizes its
 * weights themselves (x = w · 1), which is how n, the row weights and the clipping bit are encoded. Fill `dither` and
 * `weights` through the views, then `load` the delta and quantize the runs.
 */
export class DeltaQuantizer {
  /** Dither words (u = word / 2^32): word i belongs to element i. */
  readonly dither: Uint32Array;
  readonly weights: Float64Array;
  private readonly exports: KernelExports;
  private readonly values: Float32Array;
  private readonly weightsAt: number;

  private constructor(memory: WasmMemory, exports: KernelExports, length: number, ditherWords: number, weights: number) {
    this.exports = exports;
    this.values = new Float32Array(memory.buffer, 0, length);
    this.dither = new Uint32Array(memory.buffer, 4 * length, ditherWords);
    this.weightsAt = bytesFor(length, ditherWords, 0);
    this.weights = new Float64Array(memory.buffer, this.weightsAt, weights);
  }

  /** This thread's quantizer with room for the sizes given, or null where the kernel is missing. */
  static forThread(length: number, ditherWords: number, weights: number): DeltaQuantizer | null {
    if (!kernelModule || !kernelByDefault) return null;
    const bytes = bytesFor(length, ditherWords, weights);
    if (!instance) {
      const { memory, exports } = instantiateKernel(kernelModule, bytes);
      instance = { memory, exports: exports as unknown as KernelExports };
    }
    const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
    const have = instance.memory.buffer.byteLength / WASM_PAGE_BYTES;
    if (pages > have) instance.memory.grow(pages - have);
    return new DeltaQuantizer(instance.memory, instance.exports, length, ditherWords, weights);
  }

  /** Whether this thread's quantizer already ran with room for these sizes (so its memory is made and touched). */
  static warm(length: number, ditherWords: number, weights: number): boolean {
    return instance !== null && instance.memory.buffer.byteLength >= bytesFor(length, ditherWords, weights);
  }

  /** The delta into the first values, 1 into the rest. */
  load(delta: Float32Array): void {
    if (delta.length > this.values.length) throw new RangeError(`delta has ${delta.length} values, the quantizer holds ${this.values.length}`);
    this.values.set(delta);
    this.values.fill(1, delta.length);
  }

  /** Σ value² over the first `count` values in float64, in index order (l2Scale's sum). */
  sumOfSquares(count: number): number {
    if (!(count >= 0 && count <= this.values.length)) throw new RangeError(`${count} values, the quantizer holds ${this.values.length}`);
    return this.exports.sumSquares(0, 4 * count);
  }

  /**
   * Quantizes rows × cols elements from `at`, row r weighing weights[weight + r]; throws quantizeInto's RangeError
   * for an element whose weighted value is not finite (the elements before it are already overwritten).
   */
  quantizeRows(at: number, rows: number, cols: number, weight: number, q: KernelQuantization): void {
    if (at < 0 || at + rows * cols > this.values.length || weight < 0 || weight + rows > this.weights.length) {
      throw new RangeError(`${rows} rows of ${cols} at ${at} (weights from ${weight}) do not fit the quantizer`);
    }
    const step = quantizationStep(q.range, q.bits);
    const bad = this.exports.quantize(
      at,
      rows,
      cols,
      this.weightsAt + 8 * weight,
      4 * this.values.length,
      q.scale,
      q.clipAt,
      q.range,
      step,
      levels(q.bits),
      q.stochastic ? 1 : 0,
    );
    if (bad >= 0) throw new RangeError(`cannot quantize non-finite value at ${bad}`);
  }

  /** The encodings (two's complement int32, i.e. the uint32 quantizeInto stores) into out[0, length). */
  copyTo(out: Uint32Array): void {
    out.set(new Uint32Array(this.values.buffer, 0, this.values.length));
  }
}
