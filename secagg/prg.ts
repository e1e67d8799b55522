import { SEED_LENGTH } from '@fedrec/protocol';
import { ctr } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { wordsOfLittleEndian } from './bytes.js';
import { nativeCrypto } from './native-crypto.js';

/**
 * Masks are AES-256-CTR keystream (NIST SP 800-38A: 32-byte seed as key, initial counter block all zero, the whole
 * 128-bit block incremented big-endian) read as little-endian uint32. AES because it is the one stream cipher that
 * is native on both sides: node:crypto with AES-NI expands a 100k-word mask at about 1 GB/s, where ChaCha20 in
 * JavaScript (@noble/ciphers, the previous PRG) ran at 50–75 MB/s and Node's own ChaCha20 at about 125 MB/s on the
 * same machine. Where node:crypto is missing (browsers) the same keystream comes from @noble/ciphers' AES-CTR, so
 * Node and browser devices expand a seed identically (test/secagg/browser.test.ts compares them).
 */

// 64 KiB keystream chunks. node:crypto returns every update() in a fresh buffer, and that allocation, not AES, is what
// a mask costs. 64 KiB stays under glibc's mmap threshold (128 KiB), so a chunk never needs a fresh mapping whose
// pages fault in; in steady state the chunk size hardly matters (bench/secagg/prg-chunks.ts, load 12: median 0.49 ms
// per 100k-word mask at 64 KiB, 0.48-0.50 at 16 and 256 KiB), but single runs in fresh processes measured 256 KiB at
// 1.1-3.3 ms a mask. (The earlier move from 16 to 256 KiB was measured with the whole simulated population in one
// heap, where fewer buffers meant fewer full collections; bench/secagg.ts now gives each side its own heap.)
const CHUNK_BYTES = 64 * 1024;
const BLOCK_BYTES = 16;
const zeros = new Uint8Array(CHUNK_BYTES);

/** The initial counter block for keystream block `block` (big-endian, as CTR mode increments it). */
function counterBlock(block: number): Uint8Array {
  const iv = new Uint8Array(BLOCK_BYTES);
  for (let i = BLOCK_BYTES - 1, b = block; i >= 0 && b > 0; i--, b = Math.floor(b / 256)) iv[i] = b % 256;
  return iv;
}

/**
 * AES-256-CTR keystream: `length` bytes for `key` starting at the 16-byte counter block `iv`. `portable` forces the
 * pure-JS path (tests compare the two).
 */
export function aesCtrKeystream(key: Uint8Array, iv: Uint8Array, length: number, portable = false): Uint8Array {
  if (!portable && nativeCrypto) return Uint8Array.from(nativeCrypto.createCipheriv('aes-256-ctr', key, iv).update(new Uint8Array(length)));
  return ctr(key, iv).encrypt(new Uint8Array(length));
}

/** Raw RFC 8439 ChaCha20 keystream: `length` bytes for (key, nonce) from block `counter` (the SecAgg+ graph shuffle). */
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

/** Calls `each` with the keystream of `seed` in ≤ 64 KiB chunks (4-aligned) and the word offset of each. */
function eachKeystreamChunk(seed: Uint8Array, totalBytes: number, each: (chunk: Uint8Array, wordOffset: number) => void): void {
  // One native cipher streams the whole mask (CTR state carries across update calls).
  const cipher = nativeCrypto?.createCipheriv('aes-256-ctr', seed, counterBlock(0));
  for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
    const bytes = Math.min(CHUNK_BYTES, totalBytes - start);
    let chunk = cipher ? cipher.update(zeros.subarray(0, bytes)) : ctr(seed, counterBlock(start / BLOCK_BYTES)).encrypt(zeros.subarray(0, bytes));
    // Node returns pooled Buffers only below 4 KiB; copy when a view is not 4-aligned so it can be read as words.
    if (chunk.byteOffset % 4 !== 0) chunk = Uint8Array.from(chunk);
    each(chunk, start / 4);
  }
}

/** out[base + i] += sign · words[i] modulo 2^32, on int32 views (one small monomorphic loop V8 optimizes once). */
function addWords(out: Int32Array, base: number, words: Int32Array, sign: 1 | -1): void {
  const n = words.length;
  if (sign === 1) {
    for (let i = 0; i < n; i++) out[base + i] = (out[base + i]! + words[i]!) | 0;
  } else {
    for (let i = 0; i < n; i++) out[base + i] = (out[base + i]! - words[i]!) | 0;
  }
}

/**
 * target += sign · PRG(seed), word by word, modulo 2^32. The loop runs on Int32Array views: a Uint32Array element
 * above 2^31 is not a small integer to V8, so the uint32 sum goes through doubles; int32 `(a + b) | 0` is the same
 * bits modulo 2^32 and stays in integer registers.
 */
export function addMask(target: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  checkSeed(seed);
  const out = new Int32Array(target.buffer, target.byteOffset, target.length);
  eachKeystreamChunk(seed, target.length * 4, (chunk, wordOffset) => {
    const words = wordsOfLittleEndian(chunk);
    addWords(out, wordOffset, new Int32Array(words.buffer, words.byteOffset, words.length), sign);
  });
}
