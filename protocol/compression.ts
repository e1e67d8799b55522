import { z } from 'zod';

/**
 * How floats travel (model downloads and update deltas), chosen by the coordinator per run:
 * - `none`: float32, lossless.
 * - `fp16`: IEEE half precision, round to nearest even (relative error <= 2^-11 in the normal range;
 *   values beyond 65504 saturate to +-65504, values below 2^-24 flush to zero).
 * - `int8`: symmetric linear quantization with one float32 scale per block: per row of a 2-D shared
 *   tensor (each item's embedding keeps its own range), per tensor otherwise. value = scale * q,
 *   q in [-127, 127], scale = max|x| / 127, so the error per value is at most scale / 2.
 */
export const COMPRESSIONS = ['none', 'fp16', 'int8'] as const;
export const compressionSchema = z.enum(COMPRESSIONS);
export type Compression = z.infer<typeof compressionSchema>;

/** Bytes one value takes (int8 adds 4 bytes of scale per block). */
const VALUE_BYTES: Record<Compression, number> = { none: 4, fp16: 2, int8: 1 };

/**
 * The values travel as consecutive blocks (lengths in order, summing to the number of values): the
 * int8 scale granularity. The other codecs ignore block boundaries.
 */
export type BlockLengths = ArrayLike<number>;

export function encodedSize(codec: Compression, count: number, blocks: BlockLengths): number {
  return VALUE_BYTES[codec] * count + (codec === 'int8' ? 4 * blocks.length : 0);
}

// ---- fp16 ----------------------------------------------------------------------------------
// Hand-written rather than a library: this is a bulk typed-array conversion (one pass over a
// shared Uint32Array view), where the well-kept polyfill (@petamoriken/float16) converts one value
// per call through DataView; Math.f16round / Float16Array are not in Node 20 or every browser yet.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE binary16 bits, round to nearest even; saturates to the largest finite half. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 : sign | 0x7bff; // NaN stays NaN; +-Infinity saturates
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: still right
  if ((half & 0x7fff) >= 0x7c00) return sign | 0x7bff;
  return sign | half;
}

/** IEEE binary16 bits -> number. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** All 65 536 halves decoded once: decoding is then one table lookup per value. */
let halfTable: Float32Array | undefined;
function halves(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = fromHalfBits(h);
  }
  return halfTable;
}

// ---- encode / decode -----------------------------------------------------------------------

/** Little-endian writers over an aligned copy (every platform fedrec runs on is little-endian; binary.ts assumes the same). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Encodes `values` (laid out as `blocks`) with `codec`. */
export function encodeValues(values: Float32Array, blocks: BlockLengths, codec: Compression): Uint8Array {
  if (codec === 'none') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (codec === 'fp16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
    return new Uint8Array(out.buffer);
  }
  const out = new Uint8Array(encodedSize('int8', values.length, blocks));
  const scales = new Float32Array(out.buffer, 0, blocks.length);
  const q = new Int8Array(out.buffer, 4 * blocks.length);
  let at = 0;
  for (let b = 0; b < blocks.length; b++) {
    const n = blocks[b]!;
    let max = 0;
    for (let i = at; i < at + n; i++) {
      const a = Math.abs(values[i]!);
      if (a > max) max = a;
    }
    // The scale is stored as float32: quantize with exactly that value so decoding reproduces it.
    f32[0] = max / 127;
    const scale = f32[0];
    scales[b] = scale;
    if (scale > 0 && Number.isFinite(scale)) {
      const inv = 1 / scale;
      for (let i = at; i < at + n; i++) {
        const v = Math.round(values[i]! * inv);
        q[i] = v > 127 ? 127 : v < -127 ? -127 : v;
      }
    }
    at += n;
  }
  if (at !== values.length) throw new RangeError(`blocks cover ${at} values, there are ${values.length}`);
  return out;
}

/**
 * Decodes `count` values laid out as `blocks`; throws RangeError when the byte length is not exactly right.
 * `adopt`: the caller hands `bytes` over (nobody reads or writes them afterwards), so float32 values that sit
 * 4-byte aligned are returned as a view of them rather than a copy (the coordinator's freshly decrypted
 * updates: one model-sized allocation less per update).
 */
export function decodeValues(bytes: Uint8Array, count: number, blocks: BlockLengths, codec: Compression, adopt = false): Float32Array {
  const expected = encodedSize(codec, count, blocks);
  if (bytes.byteLength !== expected) throw new RangeError(`${codec} values: expected ${expected} bytes, got ${bytes.byteLength}`);
  if (codec === 'none' && adopt && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  if (codec === 'none') return new Float32Array(aligned(bytes));
  if (codec === 'fp16') {
    const h = new Uint16Array(aligned(bytes));
    const table = halves();
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = table[h[i]!]!;
    return out;
  }
  const buf = aligned(bytes);
  const scales = new Float32Array(buf, 0, blocks.length);
  const q = new Int8Array(buf, 4 * blocks.length);
  const out = new Float32Array(count);
  let at = 0;
  for (let b = 0; b < blocks.length; b++) {
    const n = blocks[b]!;
    const scale = scales[b]!;
    if (!Number.isFinite(scale) || scale < 0) throw new RangeError(`int8 block ${b} has scale ${scale}`);
    for (let i = at; i < at + n; i++) out[i] = scale * q[i]!;
    at += n;
  }
  if (at !== count) throw new RangeError(`blocks cover ${at} values, there are ${count}`);
  return out;
}
