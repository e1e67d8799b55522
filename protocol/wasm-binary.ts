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
export const F64 = 0x7c;
export const V128 = 0x7b;

// Control and integer opcodes.
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const END = 0x0b;
export const VOID = 0x40;
export const IF = 0x04;
export const ELSE = 0x05;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const RETURN = 0x0f;
export const SELECT = 0x1b;
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const LOCAL_TEE = 0x22;
export const I32_ADD = 0x6a;
export const I32_AND = 0x71;
export const I32_SHL = 0x74;
export const I32_LT_U = 0x49;
export const I32_GE_U = 0x4f;
export const I32_EQZ = 0x45;
export const I32_SUB = 0x6b;
export const I32_SHR_U = 0x76;

// Memory access (each followed by a memarg: log2 alignment, offset).
export const I32_LOAD = 0x28;
export const F32_LOAD = 0x2a;
export const F64_LOAD = 0x2b;
export const I32_STORE = 0x36;

// Float64 arithmetic and conversions: IEEE 754 with round-to-nearest-even, the same results as JavaScript's numbers.
export const F64_LT = 0x63;
export const F64_GE = 0x66;
export const F64_ABS = 0x99;
export const F64_NEG = 0x9a;
export const F64_FLOOR = 0x9c;
export const F64_ADD = 0xa0;
export const F64_SUB = 0xa1;
export const F64_MUL = 0xa2;
export const F64_DIV = 0xa3;
export const F64_MIN = 0xa4;
export const F64_MAX = 0xa5;
export const I32_TRUNC_F64_S = 0xaa;
export const F32_DEMOTE_F64 = 0xb6;
export const F64_CONVERT_I32_U = 0xb8;
export const F64_PROMOTE_F32 = 0xbb;

export const localGet = (i: number): number[] => [LOCAL_GET, ...leb(i)];
export const localSet = (i: number): number[] => [LOCAL_SET, ...leb(i)];
export const localTee = (i: number): number[] => [LOCAL_TEE, ...leb(i)];
export const i32Const = (v: number): number[] => [0x41, ...sleb(v)];
/** f64.const: the value's 8 bytes, little-endian. */
export const f64Const = (v: number): number[] => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return [0x44, ...new Uint8Array(view.buffer)];
};

/** A SIMD (0xfd-prefixed) opcode. */
export const simd = (op: number): number[] => [0xfd, ...leb(op)];
/** memarg: log2 alignment hint 4 (16 bytes; a hint only, unaligned addresses still work), offset. */
export const v128Load = (offset: number): number[] => [...simd(0x00), 4, ...leb(offset)];
export const v128Store = (offset: number): number[] => [...simd(0x0b), 4, ...leb(offset)];
