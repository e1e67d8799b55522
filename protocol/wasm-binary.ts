/**
 * The pieces of the WebAssembly binary format that our hand-encoded SIMD kernels are spelled with: the
 * coordinator's accumulator (coordinator/strategy/simd-axpy.ts) and secagg's word sums (secagg/word-sum.ts).
 * Each kernel is a few hundred bytes, written out with named opcodes and checked by `WebAssembly.validate`,
 * rather than adding a wasm toolchain to the build. It lives in the base package because both sides import
 * it and it uses no Node or DOM globals.
 */

/** Unsigned LEB128: sizes, counts, indices and memarg offsets. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128: i32.const's immediate is signed, so 64 needs two bytes (a lone 0x40 reads as -64). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** A name (import module/field, export): its length, then its bytes (ASCII here). */
export const wasmName = (s: string): number[] => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
/** A vector: its item count, then the items. */
export const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
/** A module section: its id, its byte length, its bytes. */
export const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
/** The module header: "\0asm", version 1. */
export const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

// Value types.
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

// Control and integer opcodes.
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const END = 0x0b;
export const VOID = 0x40;
export const BR_IF = 0x0d;
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const LOCAL_TEE = 0x22;
export const I32_ADD = 0x6a;
export const I32_AND = 0x71;
export const I32_SHL = 0x74;
export const I32_LT_U = 0x49;
export const I32_GE_U = 0x4f;

export const localGet = (i: number): number[] => [LOCAL_GET, ...leb(i)];
export const localSet = (i: number): number[] => [LOCAL_SET, ...leb(i)];
export const localTee = (i: number): number[] => [LOCAL_TEE, ...leb(i)];
export const i32Const = (v: number): number[] => [0x41, ...sleb(v)];

/** A SIMD (0xfd-prefixed) opcode. */
export const simd = (op: number): number[] => [0xfd, ...leb(op)];
/** memarg: log2 alignment hint 4 (16 bytes; a hint only, unaligned addresses still work), offset. */
export const v128Load = (offset: number): number[] => [...simd(0x00), 4, ...leb(offset)];
export const v128Store = (offset: number): number[] => [...simd(0x0b), 4, ...leb(offset)];
