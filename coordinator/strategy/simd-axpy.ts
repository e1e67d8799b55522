/**
 * acc[i] += w · x[i] over float32, four lanes at a time, as a WebAssembly SIMD kernel.
 *
 * Why WebAssembly: V8 compiles a JavaScript loop over typed arrays to scalar code (about 1 element per
 * nanosecond here, 0.1-0.3x of `Float32Array.set`); the same loop with 128-bit lanes is limited by memory
 * instead. Why hand-encoded: the module is ~130 bytes and one function, so it is spelled out below
 * (readable opcodes, checked by `WebAssembly.validate`) rather than adding a wasm toolchain to the build.
 *
 * The kernel works in the module's own memory: callers copy x into a scratch area (`scratch`) chunk by
 * chunk, and keep acc resident there (`lanes`). No float64 here: the accumulator (update-accumulator.ts)
 * flushes these float32 partial sums into its float64 sums every few updates, which bounds the error.
 */

/** Unsigned LEB128, as the wasm binary format encodes integers. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const str = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const simd = (op: number) => [0xfd, ...leb(op)];
const localGet = (i: number) => [0x20, i];
const localSet = (i: number) => [0x21, i];
const localTee = (i: number) => [0x22, i];
const i32Const = (v: number) => [0x41, ...leb(v)];
/** memarg: log2 alignment hint 4 (16 bytes; a hint only, unaligned addresses still work), offset. */
const v128Load = (offset: number) => [...simd(0x00), 4, ...leb(offset)];
const v128Store = (offset: number) => [...simd(0x0b), 4, ...leb(offset)];
const F32X4_SPLAT = simd(0x13);
const F32X4_ADD = simd(228);
const F32X4_MUL = simd(230);
const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const BR_IF = 0x0d;
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const VOID = 0x40;

/**
 * (func axpy32 (param $acc i32) (param $x i32) (param $count i32) (param $w f32) (local $end i32) (local $wv v128)
 *   $end = $x + $count*4; $wv = f32x4.splat $w
 *   block: if $x >= $end break
 *     loop: store($acc, load($acc) + load($x) * $wv); $acc += 16; $x += 16; continue while $x < $end
 * ) — byte addresses; $count a multiple of 4.
 */
const axpy32Body = [
  ...localGet(1),
  ...localGet(2),
  ...i32Const(2),
  I32_SHL,
  I32_ADD,
  ...localSet(4),
  ...localGet(3),
  ...F32X4_SPLAT,
  ...localSet(5),
  BLOCK,
  VOID,
  ...localGet(1),
  ...localGet(4),
  I32_GE_U,
  BR_IF,
  0,
  LOOP,
  VOID,
  ...localGet(0),
  ...localGet(0),
  ...v128Load(0),
  ...localGet(1),
  ...v128Load(0),
  ...localGet(5),
  ...F32X4_MUL,
  ...F32X4_ADD,
  ...v128Store(0),
  ...localGet(0),
  ...i32Const(16),
  I32_ADD,
  ...localSet(0),
  ...localGet(1),
  ...i32Const(16),
  I32_ADD,
  ...localTee(1),
  ...localGet(4),
  I32_LT_U,
  BR_IF,
  0,
  END,
  END,
  END,
];

const moduleBytes = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([[0x60, 4, I32, I32, I32, F32, 0]])),
  ...section(2, vec([[...str('m'), ...str('mem'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([[0]])),
  ...section(7, vec([[...str('axpy32'), 0x00, 0]])),
  ...section(
    10,
    vec([
      ((body) => [...leb(body.length), ...body])([
        ...vec([
          [1, I32],
          [1, V128],
        ]),
        ...axpy32Body,
      ]),
    ]),
  ),
]);

/**
 * The part of the WebAssembly global this file uses. Typed here because the coordinator's Node-only
 * tsconfig has no DOM lib, and @types/node does not declare WebAssembly.
 */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no wasm SIMD (callers then use a JavaScript loop). */
function axpyModule(): WasmModule | null {
  if (compiled === undefined) compiled = wasm?.validate(moduleBytes) ? new wasm.Module(moduleBytes) : null;
  return compiled;
}

/** Elements copied into the scratch area per kernel call: 64 KiB, so the copy stays in L2 between the write and the kernel's read. */
export const SCRATCH_FLOATS = 16_384;

export interface Axpy32 {
  /** Float32 partial sums, resident in the kernel's memory. */
  readonly lanes: Float32Array;
  /** lanes[offset + k] += w · x[k] for every k of x. */
  add(offset: number, x: Float32Array, w: number): void;
}

/** A kernel instance with `length` resident float32 lanes, or undefined without wasm SIMD. */
export function createAxpy32(length: number): Axpy32 | undefined {
  const mod = axpyModule();
  if (!mod || !wasm) return undefined;
  const bytes = SCRATCH_FLOATS * 4 + length * 4;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65_536)) });
  const instance = new wasm.Instance(mod, { m: { mem: memory } });
  const kernel = instance.exports.axpy32 as (acc: number, x: number, count: number, w: number) => void;
  // Never grown after this, so these views stay attached.
  const scratch = new Float32Array(memory.buffer, 0, SCRATCH_FLOATS);
  const lanes = new Float32Array(memory.buffer, SCRATCH_FLOATS * 4, length);
  const laneBase = SCRATCH_FLOATS * 4;
  return {
    lanes,
    add(offset, x, w) {
      const wf = Math.fround(w);
      for (let a = 0; a < x.length; a += SCRATCH_FLOATS) {
        const b = Math.min(x.length, a + SCRATCH_FLOATS);
        const vectorEnd = a + ((b - a) & ~3);
        scratch.set(x.subarray(a, b));
        if (vectorEnd > a) kernel(laneBase + (offset + a) * 4, 0, vectorEnd - a, wf);
        // The last 0-3 elements, with the same float32 rounding as the lanes.
        for (let i = vectorEnd; i < b; i++) lanes[offset + i] = lanes[offset + i]! + Math.fround(wf * x[i]!);
      }
    },
  };
}
