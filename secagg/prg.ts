import { SEED_LENGTH } from '@fedrec/protocol/secagg-sizes.js';
import { ctr } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { nativeCrypto } from './native-crypto.js';
import { nativeKeystream } from './native-keystream.js';
import { scratchWordSum, WORD_SUM_CHUNK_BYTES, WordSum } from './word-sum.js';

/**
 * Masks are AES-256-CTR keystream (NIST SP 800-38A: 32-byte seed as key, initial counter block all zero, the whole
 * 128-bit block incremented big-endian) read as little-endian uint32. AES because it is the one stream cipher that
 * is native on both sides: node:crypto with AES-NI expands a 100k-word mask at about 1 GB/s, where ChaCha20 in
 * JavaScript (@noble/ciphers, the previous PRG) ran at 50–75 MB/s and Node's own ChaCha20 at about 125 MB/s on the
 * same machine. In Node the keystream comes from the native addon where `npm ci` built it (native-keystream.ts:
 * the same bytes into one reused buffer, no fresh buffer per chunk), else from node:crypto. Where node:crypto is
 * missing (browsers) the same keystream comes from @noble/ciphers' AES-CTR, so Node and browser devices expand a seed
 * identically (test/secagg/browser.test.ts compares them).
 */

// 64 KiB keystream chunks, the size of the WordSum scratch slot each is copied into before the kernel adds it (still in
// L2 from the cipher's write). node:crypto returns every update() in a fresh, zero-filled buffer that V8 counts as
// external memory: alone that costs little (bench/secagg/stage-floor.ts: 0.100 ms per 100k-word keystream against
// 0.08 ms at openssl's 5.1 GB/s here), but in a round those buffers are what start most collections (README, the
// profile). 64 KiB stays under glibc's mmap threshold (128 KiB), so a chunk never needs a fresh mapping of its own;
// 16, 64 and 256 KiB measured within noise of each other in steady state (bench/secagg/prg-chunks.ts, load 12).
const CHUNK_BYTES = WORD_SUM_CHUNK_BYTES;
const BLOCK_BYTES = 16;
const zeros = new Uint8Array(CHUNK_BYTES);

/** The native keystream's chunk buffer, reused by every addMask of this thread (each is done with it before it returns). */
const keystreamChunk = new Uint8Array(CHUNK_BYTES);

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
  const sum = scratchWordSum(length);
  addMask(sum, seed, 1);
  return sum.toUint32Array();
}

/**
 * target += sign · PRG(seed), word by word, modulo 2^32, one ≤ 64 KiB keystream chunk at a time straight into the
 * sum (word-sum.ts: a WebAssembly SIMD add where the platform has it). A Uint32Array target is summed through the
 * thread's scratch sum and copied back (tests and one-off callers).
 */
export function addMask(target: WordSum | Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  checkSeed(seed);
  if (!(target instanceof WordSum)) {
    const sum = scratchWordSum(target.length);
    sum.addWords(target, 1);
    addMask(sum, seed, sign);
    target.set(sum.toUint32Array());
    return;
  }
  const totalBytes = target.length * 4;
  if (nativeKeystream) {
    // Each chunk's keystream into one reused buffer (still in L2 when the kernel adds it), from its own counter block:
    // no fresh buffer at all.
    for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
      const chunk = keystreamChunk.subarray(0, Math.min(CHUNK_BYTES, totalBytes - start));
      nativeKeystream.aesCtrInto(seed, counterBlock(start / BLOCK_BYTES), chunk);
      target.addBytes(chunk, sign, start / 4);
    }
    keystreamChunk.fill(0); // the buffer outlives the call: no mask's keystream is left lying in it
    return;
  }
  // One native cipher streams the whole mask (CTR state carries across update calls).
  const cipher = nativeCrypto?.createCipheriv('aes-256-ctr', seed, counterBlock(0));
  for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
    const bytes = Math.min(CHUNK_BYTES, totalBytes - start);
    const chunk = cipher ? cipher.update(zeros.subarray(0, bytes)) : ctr(seed, counterBlock(start / BLOCK_BYTES)).encrypt(zeros.subarray(0, bytes));
    target.addBytes(chunk, sign, start / 4);
  }
}
