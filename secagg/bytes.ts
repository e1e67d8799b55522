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
