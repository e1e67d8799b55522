/**
 * Fixed-point codec for sums modulo 2^32.
 *
 * A value x is clipped to [-range, range] and encoded as the signed integer q = round(x / step),
 * step = range / (2^(bits-1) - 1), so |q| ≤ 2^(bits-1) - 1, stored in a uint32 as two's complement.
 * Uint32 adds wrap modulo 2^32, which is exactly what masking needs, and the wrapped sum of n
 * encodings read back as int32 is the true integer sum as long as it never leaves int32:
 *   n · (2^(bits-1) - 1) ≤ 2^31 - 1,  i.e. bits + log2(n) ≲ 32.
 * `maxSummands(bits)` is that bound; decoding a sum of more clients throws instead of returning garbage.
 * Rounding is to nearest (error ≤ step/2 per value, but biased: values under step/2 always vanish) or
 * stochastic (q = floor(x/step + u), u uniform in [0,1): unbiased, error < step per value).
 * So a decoded sum of n clients is within n·step/2 (nearest) or n·step (stochastic) of the sum of the clipped values.
 */

/** A source of uniform numbers in [0, 1): stochastic rounding when given, round-to-nearest when not. */
export type UniformSource = () => number;

/** Uniforms in bulk: fills `words` with uniform uint32 words, each read as u = word / 2^32 in [0, 1). */
export interface UniformWords {
  fill(words: Uint32Array): void;
}

/** webcrypto's getRandomValues refuses more than 65,536 bytes a call. */
const RANDOM_VALUES_WORDS = 16_384;

/**
 * The default dither of stochastic rounding: the platform's CSPRNG in bulk (no call per value). Dither must be
 * unbiased and independent of the values, not secret (the masked sum hides it; nothing is derived from it), so a
 * CSPRNG is more than needed; it is used because every platform has one that fills a buffer at memory speed.
 * Where there is none (Node < 19 without the global), Math.random fills the words.
 */
export const cryptoUniformWords: UniformWords = {
  fill(words) {
    const crypto = (globalThis as { crypto?: { getRandomValues?(a: Uint32Array): Uint32Array } }).crypto;
    if (!crypto?.getRandomValues) {
      for (let i = 0; i < words.length; i++) words[i] = Math.floor(Math.random() * 2 ** 32);
      return;
    }
    for (let at = 0; at < words.length; at += RANDOM_VALUES_WORDS) crypto.getRandomValues(words.subarray(at, at + RANDOM_VALUES_WORDS));
  },
};

/** The uniforms of `words` in order (word / 2^32): the draws a UniformSource would make. */
export function uniformsFromWords(words: Uint32Array): UniformSource {
  let next = 0;
  return () => {
    if (next >= words.length) throw new RangeError(`only ${words.length} dither words`);
    return words[next++]! / 2 ** 32;
  };
}

export function levels(bits: number): number {
  if (!Number.isInteger(bits) || bits < 2 || bits > 31) throw new RangeError(`quantization bits must be an integer in [2, 31], got ${bits}`);
  return 2 ** (bits - 1) - 1;
}

/** Most encodings of `bits` bits whose sum still decodes without int32 overflow. */
export function maxSummands(bits: number): number {
  return Math.floor((2 ** 31 - 1) / levels(bits));
}

export function quantizationStep(range: number, bits: number): number {
  return range / levels(bits);
}

/** Worst-case absolute error of a decoded sum of `summands` values (rounding only; clipping is separate). */
export function sumErrorBound(range: number, bits: number, summands: number, stochastic: boolean): number {
  return (summands * quantizationStep(range, bits)) / (stochastic ? 1 : 2);
}

export function clip(x: number, range: number): number {
  return x > range ? range : x < -range ? -range : x;
}

/** Encodes one value (clipped); non-finite values are rejected rather than silently clipped. */
export function quantize(x: number, range: number, bits: number, random?: UniformSource): number {
  const out = new Uint32Array(1);
  quantizeInto([x], range, bits, out, 0, random);
  return out[0]!;
}

/** Encodes values into out[offset ...] (clipped; the top level clamps so stochastic rounding never exceeds ±levels). */
export function quantizeInto(values: ArrayLike<number>, range: number, bits: number, out: Uint32Array, offset = 0, random?: UniformSource): void {
  const step = quantizationStep(range, bits);
  const top = levels(bits);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) throw new RangeError(`cannot quantize non-finite value at ${i}`);
    const scaled = (x > range ? range : x < -range ? -range : x) / step;
    const q = random ? Math.floor(scaled + random()) : Math.round(scaled);
    out[offset + i] = q > top ? top : q < -top ? -top : q;
  }
}

/** Decodes a wrapped sum of `summands` encodings; throws when that many could overflow. */
export function dequantizeSum(sum: Uint32Array, range: number, bits: number, summands: number): Float64Array {
  if (summands > maxSummands(bits)) {
    throw new RangeError(`a sum of ${summands} ${bits}-bit values can overflow 32 bits (max ${maxSummands(bits)}): lower quantizationBits`);
  }
  const step = quantizationStep(range, bits);
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = (sum[i]! | 0) * step;
  return out;
}

/** target += source modulo 2^32 (typed-array stores wrap). */
export function addInto(target: Uint32Array, source: Uint32Array): void {
  if (target.length !== source.length) throw new RangeError(`length ${source.length} added to length ${target.length}`);
  for (let i = 0; i < target.length; i++) target[i] = target[i]! + source[i]!;
}
