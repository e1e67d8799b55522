/** The statistical check that a masked vector looks uniform (shared by the in-memory and the wire tests). */

/** Pearson χ² of byte values against uniform (255 degrees of freedom). */
export function byteChiSquare(words: Uint32Array): number {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]!++;
  const expected = bytes.length / 256;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

/** Σ over the 32 bit positions of the χ² (1 d.o.f. each) of ones against N/2: 32 degrees of freedom. */
export function bitChiSquare(words: Uint32Array): number {
  let chi = 0;
  for (let bit = 0; bit < 32; bit++) {
    let ones = 0;
    for (const w of words) ones += (w >>> bit) & 1;
    const e = words.length / 2;
    chi += ((ones - e) ** 2 / e) * 2;
  }
  return chi;
}

// Critical values at p ≈ 1e-4 (χ² with 255 and 32 d.o.f.): generous, yet an unmasked or weakly
// masked vector (all zeros, a constant, a biased keystream) lands in the thousands.
export const BYTE_CHI_LIMIT = 360;
export const BIT_CHI_LIMIT = 75;
