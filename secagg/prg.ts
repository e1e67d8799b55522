import { SEED_LENGTH } from '@fedrec/protocol';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { wordsOfLittleEndian } from './bytes.js';

/**
 * Masks are ChaCha20 keystream (RFC 8439, 32-byte seed as key, all-zero nonce, counter from 0)
 * read as little-endian uint32: pure JS, so Node and every browser expand a seed identically.
 */

const ZERO_NONCE = new Uint8Array(12);
const BLOCK_BYTES = 64;
const CHUNK_BYTES = 64 * 1024;
const zeros = new Uint8Array(CHUNK_BYTES);
const scratch = new Uint8Array(CHUNK_BYTES);

/** Raw RFC 8439 keystream: `length` bytes for (key, nonce) starting at block `counter`. */
export function chacha20Keystream(key: Uint8Array, nonce: Uint8Array, length: number, counter = 0): Uint8Array {
  return chacha20(key, nonce, new Uint8Array(length), undefined, counter);
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== SEED_LENGTH) throw new RangeError(`mask seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
}

/** The first `length` mask words of a seed. */
export function expandMask(seed: Uint8Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  addMask(out, seed, 1);
  return out;
}

/** target += sign · PRG(seed), word by word, modulo 2^32; streams in 64 KiB chunks so no mask-sized buffer is allocated. */
export function addMask(target: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  checkSeed(seed);
  const totalBytes = target.length * 4;
  for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
    const bytes = Math.min(CHUNK_BYTES, totalBytes - start);
    const out = scratch.subarray(0, bytes);
    chacha20(seed, ZERO_NONCE, zeros.subarray(0, bytes), out, start / BLOCK_BYTES);
    const words = wordsOfLittleEndian(out);
    const base = start / 4;
    if (sign === 1) {
      for (let i = 0; i < words.length; i++) target[base + i] = target[base + i]! + words[i]!;
    } else {
      for (let i = 0; i < words.length; i++) target[base + i] = target[base + i]! - words[i]!;
    }
  }
}
