import { z } from 'zod';

/**
 * Binary attachments arrive as a Node Buffer (often a view into a larger packet at an
 * unaligned offset) or, in the browser, as an ArrayBuffer. Both become a Uint8Array here.
 */
export const binarySchema = z
  .custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, {
    message: 'expected a binary attachment',
  })
  .transform((v) => (v instanceof Uint8Array ? v : new Uint8Array(v)));

/** Copies bytes into a fresh, aligned buffer and reads them as little-endian float32. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`float32 body has ${bytes.byteLength} bytes, not a multiple of 4`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** A Uint8Array view over exactly the floats' bytes (no copy). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** True when every value is a finite number. */
export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return false;
  }
  return true;
}
