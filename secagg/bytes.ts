/** Byte helpers shared by the secagg modules (no Node globals: runs in the browser too). */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Copies bytes into an aligned buffer and reads them as little-endian uint32 (Node Buffers may be unaligned views). */
export function bytesToUint32(bytes: Uint8Array): Uint32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`uint32 body has ${bytes.byteLength} bytes, not a multiple of 4`);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const words = new Uint32Array(copy.buffer);
  if (!LITTLE_ENDIAN_HOST) swapWords(words);
  return words;
}

const SCRATCH_WORDS = 16 * 1024;
let scratch: Uint32Array | null = null;

/**
 * target[i] += the i-th little-endian uint32 of `bytes`, modulo 2^32, without allocating a vector-sized copy: a
 * 4-aligned view is read in place, an unaligned one (a Node Buffer inside a packet) through a 64 KiB scratch. Why:
 * the server adds one masked input and one correction per survivor, and allocating (and collecting) a fresh 400 KB
 * copy each time cost ~10× the addition itself (measured: 0.44 ms vs 0.06 ms per 100k words).
 */
export function addLittleEndianWords(target: Uint32Array, bytes: Uint8Array): void {
  if (bytes.byteLength !== 4 * target.length) throw new RangeError(`${bytes.byteLength} bytes, target has ${target.length} words`);
  // Int32 views: the same bits modulo 2^32, added as small integers (see prg.ts addMask).
  const out = new Int32Array(target.buffer, target.byteOffset, target.length);
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) {
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, target.length);
    for (let i = 0; i < words.length; i++) out[i] = (out[i]! + words[i]!) | 0;
    return;
  }
  scratch ??= new Uint32Array(SCRATCH_WORDS);
  const scratchBytes = new Uint8Array(scratch.buffer);
  for (let base = 0; base < target.length; base += SCRATCH_WORDS) {
    const n = Math.min(SCRATCH_WORDS, target.length - base);
    scratchBytes.set(bytes.subarray(4 * base, 4 * (base + n)));
    if (!LITTLE_ENDIAN_HOST) swapWords(scratch.subarray(0, n));
    const words = new Int32Array(scratch.buffer, 0, n);
    for (let i = 0; i < n; i++) out[base + i] = (out[base + i]! + words[i]!) | 0;
  }
}

/** The words as little-endian bytes (a view on little-endian hosts, a copy otherwise). */
export function uint32ToBytes(words: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const copy = words.slice();
  swapWords(copy);
  return new Uint8Array(copy.buffer);
}

/** Reinterprets little-endian bytes in place as host-order words (bytes must be 4-aligned). */
export function wordsOfLittleEndian(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (!LITTLE_ENDIAN_HOST) swapWords(words);
  return words;
}

function swapWords(words: Uint32Array): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
  }
}

const encoder = new TextEncoder();

/** Unambiguous encoding of a field list: each field is a u32 length followed by its bytes. */
export function encodeFields(fields: Array<string | number | Uint8Array>): Uint8Array {
  const parts = fields.map((f) => (f instanceof Uint8Array ? f : encoder.encode(typeof f === 'number' ? `#${f}` : f)));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function allZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}
