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

// 256 KiB keystream chunks. node:crypto returns every update() in a fresh buffer, and that garbage, not AES, is what a
// mask costs: under perf a 16 KiB-chunked 100k-word mask spent ~9% in AES-NI, ~30% zero-filling, page-faulting and
// allocating the output, ~22% in the word-add loop. Fewer, larger buffers mean far less collector work: one in-process
// secagg+ round (1,000 clients, 30% dropout, --trace-gc, load 12-17) had 148 mark-compacts pausing 95 s in all with
// 16 KiB chunks, 101 / 26 s with 64 KiB and 59 / 9.6 s with 256 KiB; the coordinator's unmask accept went from 1.29 to
// 0.77 ms per survivor (main-thread CPU). A chunk never exceeds the mask, so no mask-sized temporary is added.
const CHUNK_BYTES = 256 * 1024;
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

/** Yields the keystream of `seed` in ≤ 256 KiB chunks (4-aligned). */
function* keystreamChunks(seed: Uint8Array, totalBytes: number): Generator<Uint8Array> {
  // One native cipher streams the whole mask (CTR state carries across update calls).
  const cipher = nativeCrypto?.createCipheriv('aes-256-ctr', seed, counterBlock(0));
  for (let start = 0; start < totalBytes; start += CHUNK_BYTES) {
    const bytes = Math.min(CHUNK_BYTES, totalBytes - start);
    let chunk = cipher ? cipher.update(zeros.subarray(0, bytes)) : ctr(seed, counterBlock(start / BLOCK_BYTES)).encrypt(zeros.subarray(0, bytes));
    // Node returns pooled Buffers only below 4 KiB; copy when a view is not 4-aligned so it can be read as words.
    if (chunk.byteOffset % 4 !== 0) chunk = Uint8Array.from(chunk);
    yield chunk;
  }
}

/** target += sign · PRG(seed), word by word, modulo 2^32. */
export function addMask(target: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  checkSeed(seed);
  let base = 0;
  for (const chunk of keystreamChunks(seed, target.length * 4)) {
    const words = wordsOfLittleEndian(chunk);
    if (sign === 1) {
      for (let i = 0; i < words.length; i++) target[base + i] = target[base + i]! + words[i]!;
    } else {
      for (let i = 0; i < words.length; i++) target[base + i] = target[base + i]! - words[i]!;
    }
    base += words.length;
  }
}
