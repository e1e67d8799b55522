import assert from 'node:assert/strict';
import { addMask, expandMask, useWordSumKernel, WordSum, wordSumKernel } from './index.js';

/** The reference: little-endian words read one by one (DataView) and added as uint32. */
function referenceAdd(sum: Uint32Array, bytes: Uint8Array, sign: 1 | -1, offset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.byteLength / 4; i++) sum[offset + i] = (sum[offset + i]! + sign * view.getUint32(4 * i, true)) >>> 0;
}

/** Deterministic bytes (any pattern works; a cheap LCG keeps the test reproducible). */
function patternBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('WordSum: uint32 sums modulo 2^32 (WebAssembly SIMD kernel, JavaScript fallback)', () => {
  it('Node 20 has the kernel (else every sum silently runs the slower JavaScript path)', () => {
    assert.equal(wordSumKernel, true);
  });

  // Lengths around the kernel's 16-word steps and the 64 KiB scratch slot, sums past it, unaligned byte offsets
  // (a Buffer inside a packet), both signs, offsets into the sum, and wrap-around modulo 2^32.
  for (const portable of [false, true]) {
    it(`${portable ? 'JavaScript path' : 'kernel'}: equals word-by-word arithmetic for odd lengths, offsets, signs and unaligned bytes`, () => {
      for (const length of [1, 3, 15, 16, 17, 16_383, 16_384, 16_385, 40_001]) {
        const sum = new WordSum(length, { portable });
        const reference = new Uint32Array(length);
        const steps: Array<[number, 1 | -1, number, number]> = [
          [length, 1, 0, 0],
          [length, -1, 0, 1],
          [Math.ceil(length / 2), 1, Math.floor(length / 2), 3],
          [length, 1, 0, 2],
        ];
        for (const [words, sign, offset, misalign] of steps) {
          const backing = patternBytes(4 * words + misalign, length * 31 + offset + misalign);
          const bytes = backing.subarray(misalign, misalign + 4 * words);
          sum.addBytes(bytes, sign, offset);
          referenceAdd(reference, bytes, sign, offset);
        }
        assert.deepEqual(sum.toUint32Array(), reference, `length ${length}`);
      }
    });
  }

  it('a piece added in the middle leaves the words after it alone (the kernel pads its last step with zeros)', () => {
    for (const [length, offset, words] of [
      [40, 3, 5],
      [16_384, 1, 16_383],
      [16_400, 16_380, 7],
    ] as const) {
      const sum = new WordSum(length);
      const reference = new Uint32Array(length);
      // A full-length add first leaves stale bytes in the scratch slot that a careless last step would add again.
      const first = patternBytes(4 * length, 7);
      sum.addBytes(first, 1);
      referenceAdd(reference, first, 1, 0);
      const piece = patternBytes(4 * words, 11);
      sum.addBytes(piece, -1, offset);
      referenceAdd(reference, piece, -1, offset);
      assert.deepEqual(sum.toUint32Array(), reference, `length ${length}, ${words} words at ${offset}`);
    }
  });

  it('addWords adds a host-order vector; the kernel and the JavaScript path agree on masks', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 1);
    const length = 70_001;
    const viaKernel = new WordSum(length);
    const viaJs = new WordSum(length, { portable: true });
    const input = new Uint32Array(length).map((_, i) => (i * 2654435761) >>> 0);
    for (const sum of [viaKernel, viaJs]) {
      addMask(sum, seed, 1);
      sum.addWords(input, 1);
      addMask(sum, seed, -1);
    }
    assert.deepEqual(viaKernel.toUint32Array(), input);
    assert.deepEqual(viaJs.toUint32Array(), input);
    const written = new Uint32Array(length);
    viaKernel.copyTo(written);
    assert.deepEqual(written, input);
    assert.throws(() => viaKernel.copyTo(new Uint32Array(length - 1)), RangeError);
    const withKernel = expandMask(seed, length);
    useWordSumKernel(false);
    try {
      assert.deepEqual(expandMask(seed, length), withKernel);
    } finally {
      useWordSumKernel(true);
    }
  });

  it('refuses lengths and byte counts that are not whole words or do not fit, changing nothing', () => {
    assert.throws(() => new WordSum(0), RangeError);
    assert.throws(() => new WordSum(1.5), RangeError);
    const sum = new WordSum(4);
    sum.addBytes(Uint8Array.of(1, 0, 0, 0), 1);
    assert.throws(() => sum.addBytes(new Uint8Array(6), 1), /whole uint32 words/);
    assert.throws(() => sum.addBytes(new Uint8Array(8), 1, 3), /do not fit/);
    assert.throws(() => sum.addBytes(new Uint8Array(4), 1, -1), /do not fit/);
    assert.throws(() => sum.addWords(new Uint32Array(3), 1), RangeError);
    assert.deepEqual(Array.from(sum.toUint32Array()), [1, 0, 0, 0]);
  });
});
