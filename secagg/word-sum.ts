import {
  BLOCK,
  BR_IF,
  END,
  I32,
  I32_ADD,
  I32_GE_U,
  I32_LT_U,
  LOCAL_GET,
  LOCAL_SET,
  LOCAL_TEE,
  LOOP,
  VOID,
  WASM_HEADER,
  i32Const,
  leb,
  section,
  simd,
  v128Load,
  v128Store,
  wasmName,
} from '@fedrec/protocol/wasm-binary.js';
import { compileKernel, instantiateKernel, LITTLE_ENDIAN_HOST } from './wasm-host.js';

/**
 * A vector of uint32 words summed modulo 2^32: the client's total mask, the server's masked sum. Every mask, masked
 * input and correction is added (or subtracted) into one of these, 64 KiB at a time.
 *
 * Why a WebAssembly kernel: V8 compiles the JavaScript add loop to scalar code, about 1 word per nanosecond here
 * (0.12 ms per 100k-word vector), more than the AES-256-CTR keystream of a mask itself (node:crypto, fresh output
 * buffers included: 0.10 ms); `i32x4.add` over 128-bit lanes does the same in 0.019 ms including the copy of each
 * chunk into the kernel's memory (bench/secagg/stage-floor.ts measures each alone, interleaved). The sum therefore lives in
 * the kernel's own memory, and each chunk is copied into a 64 KiB scratch slot in front of it (the chunk is still in
 * L2 from the cipher's write). Why hand-encoded: the module is a few dozen bytes, spelled out below with named
 * opcodes (protocol/wasm-binary.ts, shared with coordinator/strategy/simd-axpy.ts) rather than adding a wasm toolchain. Where WebAssembly SIMD is
 * missing (older browsers) or the host is big-endian (wasm memory is little-endian) the same sums run in JavaScript
 * on Int32Array views: `(a + b) | 0` is the same bits modulo 2^32, kept as small integers.
 */

/** Bytes of the scratch slot each chunk is copied into: the PRG's keystream chunk size (prg.ts). */
export const WORD_SUM_CHUNK_BYTES = 64 * 1024;

const I32X4_ADD = simd(0xae);
const I32X4_SUB = simd(0xb1);

/**
 * (func (param $dst i32) (param $src i32) (param $bytes i32) (local $end i32)
 *   $end = $src + $bytes
 *   while $src < $end: store($dst + o, load($dst + o) OP load($src + o)) for o = 0, 16, 32, 48; $dst, $src += 64
 * ) — byte addresses, $bytes a multiple of 64 (the caller pads). Four vectors per iteration so the loop's own
 * bookkeeping (two bumps, compare, branch) does not cost as much as the arithmetic.
 */
function kernelBody(op: number[]): number[] {
  const vector = (o: number) => [LOCAL_GET, 0, LOCAL_GET, 0, ...v128Load(o), LOCAL_GET, 1, ...v128Load(o), ...op, ...v128Store(o)];
  const plus64 = [...i32Const(64), I32_ADD];
  // prettier-ignore
  const code = [
    1, 1, I32, // one i32 local: $end
    LOCAL_GET, 1, LOCAL_GET, 2, I32_ADD, LOCAL_SET, 3, // $end = $src + $bytes
    BLOCK, VOID, LOCAL_GET, 1, LOCAL_GET, 3, I32_GE_U, BR_IF, 0, // nothing to do when $src >= $end
    LOOP, VOID,
    ...vector(0), ...vector(16), ...vector(32), ...vector(48),
    LOCAL_GET, 0, ...plus64, LOCAL_SET, 0, // $dst += 64
    LOCAL_GET, 1, ...plus64, LOCAL_TEE, 1, // $src += 64
    LOCAL_GET, 3, I32_LT_U, BR_IF, 0, // again while $src < $end
    END, END, END,
  ];
  return [...leb(code.length), ...code];
}

// prettier-ignore
const MODULE_BYTES = new Uint8Array([
  ...WASM_HEADER,
  ...section(1, [1, 0x60, 3, I32, I32, I32, 0]), // type 0: (i32, i32, i32) -> ()
  ...section(2, [1, ...wasmName('env'), ...wasmName('memory'), 0x02, 0x00, 0x01]), // import env.memory, at least 1 page
  ...section(3, [2, 0, 0]), // two functions of type 0
  ...section(7, [2, ...wasmName('add'), 0x00, 0, ...wasmName('sub'), 0x00, 1]),
  ...section(10, [2, ...kernelBody(I32X4_ADD), ...kernelBody(I32X4_SUB)]),
]);

/** The compiled kernel, or null where WebAssembly SIMD is missing (every sum then runs in JavaScript). */
const kernelModule = compileKernel(MODULE_BYTES);

/** Whether sums run on the WebAssembly kernel on this platform. */
export const wordSumKernel = kernelModule !== null;

let kernelByDefault = true;

/**
 * Turns the kernel off (or back on) for sums created from now on in this thread, so a benchmark can measure the
 * JavaScript path and the kernel in one run (bench/secagg.ts --sums). Results are identical either way.
 */
export function useWordSumKernel(on: boolean): void {
  kernelByDefault = on;
}

type Kernel = (dst: number, src: number, bytes: number) => void;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * `length` uint32 words, zero at first, to which little-endian words are added modulo 2^32. `portable` forces the
 * JavaScript path (tests compare the two).
 *
 * Each WordSum owns a WebAssembly memory, and a fresh one is not cheap: V8 reserves gigabytes of address space for
 * it, the pages fault in on first touch, and live memories push V8 into full collections to release reservations
 * (measured here: a new 100k-word sum plus one mask 4.2 ms, against 0.4 ms for a mask into a sum already touched).
 * So the server keeps one per round, and everything that sums inside one synchronous call (a client's masks, its
 * correction, expandMask) borrows the thread's reusable one (`scratchWordSum`).
 */
export class WordSum {
  private size: number;
  /** The sum's words, in place: in the kernel's memory after the scratch slot, or in a plain buffer. */
  private readonly words: Int32Array;
  private readonly scratch: Uint8Array;
  private readonly add: Kernel | null = null;
  private readonly sub: Kernel | null = null;
  /** Whether this sum runs on the kernel (scratchWordSum keeps it only while that matches useWordSumKernel). */
  readonly kernel: boolean;

  constructor(length: number, options: { portable?: boolean } = {}) {
    checkLength(length);
    this.size = length;
    this.kernel = kernelModule !== null && kernelByDefault && !options.portable;
    if (this.kernel) {
      // 64 bytes of slack after the sum: the kernel works in whole 64-byte steps, so a piece that starts at an odd word
      // offset can run up to 60 bytes past the last word (adding the zeros addBytes pads the piece with).
      const bytes = WORD_SUM_CHUNK_BYTES + 4 * length + 64;
      const { memory, exports } = instantiateKernel(kernelModule!, bytes);
      this.add = exports.add as Kernel;
      this.sub = exports.sub as Kernel;
      this.scratch = new Uint8Array(memory.buffer, 0, WORD_SUM_CHUNK_BYTES);
      this.words = new Int32Array(memory.buffer, WORD_SUM_CHUNK_BYTES, length);
    } else {
      this.scratch = new Uint8Array(WORD_SUM_CHUNK_BYTES);
      this.words = new Int32Array(length);
    }
  }

  get length(): number {
    return this.size;
  }

  /** Words this sum can hold without a new memory. */
  get capacity(): number {
    return this.words.length;
  }

  /** Zero and resize to `length` ≤ capacity (scratchWordSum reuses one sum this way). */
  reset(length: number): this {
    checkLength(length);
    if (length > this.capacity) throw new RangeError(`a sum of capacity ${this.capacity} cannot hold ${length} words`);
    this.size = length;
    this.words.fill(0, 0, length);
    return this;
  }

  /**
   * sum[offset + i] += sign · (the i-th little-endian uint32 of `bytes`), modulo 2^32. Any byte offset works: the
   * bytes are copied into the scratch slot first (a Node Buffer inside a packet is rarely 4-aligned).
   */
  addBytes(bytes: Uint8Array, sign: 1 | -1, offset = 0): void {
    if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not whole uint32 words`);
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes.byteLength / 4 > this.size) {
      throw new RangeError(`${bytes.byteLength / 4} words at ${offset} do not fit a sum of ${this.length}`);
    }
    for (let at = 0; at < bytes.byteLength; at += WORD_SUM_CHUNK_BYTES) {
      const piece = bytes.subarray(at, Math.min(at + WORD_SUM_CHUNK_BYTES, bytes.byteLength));
      this.scratch.set(piece);
      const base = offset + at / 4;
      const kernel = sign === 1 ? this.add : this.sub;
      if (kernel) {
        // Zeros up to the kernel's next 64-byte step, so the words after the piece get + 0, not a stale chunk's bytes.
        const padded = roundUp(piece.byteLength, 64);
        this.scratch.fill(0, piece.byteLength, padded);
        kernel(WORD_SUM_CHUNK_BYTES + 4 * base, 0, padded);
      } else this.addScratch(base, piece.byteLength / 4, sign);
    }
  }

  /** sum += sign · words, modulo 2^32. */
  addWords(words: Uint32Array, sign: 1 | -1): void {
    if (words.length !== this.size) throw new RangeError(`${words.length} words, the sum has ${this.size}`);
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    if (LITTLE_ENDIAN_HOST) this.addBytes(bytes, sign);
    else for (let i = 0; i < words.length; i++) this.words[i] = sign === 1 ? (this.words[i]! + words[i]!) | 0 : (this.words[i]! - words[i]!) | 0;
  }

  /** Writes the sum into `target` (host order, exactly `length` words): no fresh 400 KB allocation to fault in. */
  copyTo(target: Uint32Array): void {
    if (target.length !== this.size) throw new RangeError(`${target.length} words, the sum has ${this.size}`);
    target.set(new Uint32Array(this.words.buffer, this.words.byteOffset, this.size));
  }

  /** The sum as a fresh Uint32Array (host order). */
  toUint32Array(): Uint32Array {
    const out = new Uint32Array(this.size);
    out.set(new Uint32Array(this.words.buffer, this.words.byteOffset, this.size));
    return out;
  }

  /** The JavaScript path: `count` little-endian words from the scratch slot into the sum at `base`. */
  private addScratch(base: number, count: number, sign: 1 | -1): void {
    const src = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, count);
    if (!LITTLE_ENDIAN_HOST) {
      for (let i = 0; i < count; i++) {
        const w = src[i]!;
        src[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
      }
    }
    const out = this.words;
    if (sign === 1) for (let i = 0; i < count; i++) out[base + i] = (out[base + i]! + src[i]!) | 0;
    else for (let i = 0; i < count; i++) out[base + i] = (out[base + i]! - src[i]!) | 0;
  }
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`a word sum needs a positive integer length, got ${length}`);
}

let shared: WordSum | null = null;

/**
 * This thread's reusable sum, zeroed to `length` words: for sums that begin and end inside one synchronous call
 * (take the result with toUint32Array before returning; the next caller zeroes it). Replaced only when a longer
 * sum is asked for or useWordSumKernel changed.
 */
export function scratchWordSum(length: number): WordSum {
  if (shared && shared.capacity >= length && shared.kernel === (kernelModule !== null && kernelByDefault)) return shared.reset(length);
  shared = new WordSum(length);
  return shared;
}
