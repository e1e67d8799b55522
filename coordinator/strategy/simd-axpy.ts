import {
  BLOCK,
  BR_IF,
  END,
  F32,
  I32,
  I32_ADD,
  I32_AND,
  I32_GE_U,
  I32_LT_U,
  I32_SHL,
  LOOP,
  V128,
  VOID,
  WASM_HEADER,
  i32Const,
  leb,
  localGet,
  localSet,
  localTee,
  section,
  simd,
  v128Load,
  v128Store,
  vec,
  wasmName,
} from '@fedrec/protocol/wasm-binary.js';

/**
 * The accumulator's kernels, as one WebAssembly SIMD module over float32 lanes and their float64 sums:
 * - `axpy<k>` (k = 1..MAX_FUSED): lanes[i] = (((lanes[i] + w₀·x₀[i]) + w₁·x₁[i]) + …), four lanes at a time;
 * - `flush`: sums[i] += lanes[i] (promoted to float64), lanes[i] = 0.
 *
 * Why WebAssembly: V8 compiles a JavaScript loop over typed arrays to scalar code (about 1 element per
 * nanosecond here, 0.1-0.3x of `Float32Array.set`); the same loop with 128-bit lanes is limited by memory
 * instead. Why hand-encoded: the module is a few hundred bytes, so it is spelled out below (readable
 * opcodes, checked by `WebAssembly.validate`) rather than adding a wasm toolchain to the build.
 *
 * Why fused: one update moves 3 streams (read x, read and write the lanes) against memcpy's 2, so one at
 * a time it can reach at most 2/3 of memcpy's bandwidth. k updates in one pass move k + 2 streams for k
 * updates: 4 waiting updates cost 1.5 streams each. The terms are added in the same order with the same
 * float32 roundings (wasm SIMD has no fused multiply-add), so a fused pass gives bitwise the sums of k
 * passes: fusion changes the speed, never the result.
 *
 * The kernels work in the module's own memory: callers copy each x into a scratch slot chunk by chunk (the
 * chunk stays in L2 between the copy and the kernel's read), and the lanes and their float64 sums stay
 * resident there.
 */

/** Loads 8 bytes (two float32) into the low half, zeroes the high half; alignment hint 8 bytes. */
const v128Load64Zero = (offset: number) => [...simd(0x5d), 3, ...leb(offset)];
const F32X4_SPLAT = simd(0x13);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const F64X2_ADD = simd(0xf0);
const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);

/** Updates one kernel pass can add: 4 scratch slots of 64 KiB stay in L2 next to the lanes' chunk. */
export const MAX_FUSED = 4;
/** Elements copied into each scratch slot per kernel call: 64 KiB. */
export const SCRATCH_FLOATS = 16_384;
const SLOT_BYTES = SCRATCH_FLOATS * 4;

/**
 * `loop` over byte addresses from `ptr` (local `ptrLocal`) to `end` (local `endLocal`), both advanced by
 * `step` after `body`; `others` are further pointer locals advanced alongside by their own steps.
 * block: if ptr >= end break; loop: body; others += step; ptr += step; continue while ptr < end.
 */
function loopOver(ptrLocal: number, endLocal: number, step: number, others: Array<[number, number]>, body: number[]): number[] {
  return [
    BLOCK,
    VOID,
    ...localGet(ptrLocal),
    ...localGet(endLocal),
    I32_GE_U,
    BR_IF,
    0,
    LOOP,
    VOID,
    ...body,
    ...others.flatMap(([local, by]) => [...localGet(local), ...i32Const(by), I32_ADD, ...localSet(local)]),
    ...localGet(ptrLocal),
    ...i32Const(step),
    I32_ADD,
    ...localTee(ptrLocal),
    ...localGet(endLocal),
    I32_LT_U,
    BR_IF,
    0,
    END,
    END,
  ];
}

/**
 * (func axpy<k> (param $acc i32) (param $x i32) (param $count i32) (param $w0 f32) … (param $w<k-1> f32)
 *   (local $end i32) (local $end64 i32) (local $wv0 v128) … (local $wv<k-1> v128)
 *   $end = $x + $count*4; $end64 = $x + ($count & ~15)*4; $wvj = f32x4.splat $wj
 *   for each 64 bytes up to $end64: four vectors v = load($acc + o); v = v + load($x + j·SLOT_BYTES + o)·$wvj
 *     for j = 0..k-1; store($acc + o, v), o = 0, 16, 32, 48;
 *   then for each 16 bytes up to $end: the same for one vector
 * ) — byte addresses; slot j of the scratch lies SLOT_BYTES·j after $x; $count a multiple of 4.
 *
 * Why unrolled four times: one vector per iteration spends as many instructions on the loop (two pointer
 * bumps, compare, branch) as on the arithmetic, which kept one update at a time below memory speed; the
 * vectors' offsets ride in the loads' and stores' memarg, so the unrolled body adds no address arithmetic.
 */
function axpyBody(k: number): number[] {
  const end = 3 + k;
  const end64 = 4 + k;
  const wv = (j: number) => 5 + k + j;
  const splats = Array.from({ length: k }, (_, j) => [...localGet(3 + j), ...F32X4_SPLAT, ...localSet(wv(j))]).flat();
  const vector = (o: number) => [
    ...localGet(0),
    ...localGet(0),
    ...v128Load(o),
    ...Array.from({ length: k }, (_, j) => [...localGet(1), ...v128Load(j * SLOT_BYTES + o), ...localGet(wv(j)), ...F32X4_MUL, ...F32X4_ADD]).flat(),
    ...v128Store(o),
  ];
  return [
    ...vec([
      [2, I32],
      [k, V128],
    ]),
    ...localGet(1),
    ...localGet(2),
    ...i32Const(2),
    I32_SHL,
    I32_ADD,
    ...localSet(end),
    ...localGet(1),
    ...localGet(2),
    ...i32Const(-16),
    I32_AND,
    ...i32Const(2),
    I32_SHL,
    I32_ADD,
    ...localSet(end64),
    ...splats,
    ...loopOver(1, end64, 64, [[0, 64]], [...vector(0), ...vector(16), ...vector(32), ...vector(48)]),
    ...loopOver(1, end, 16, [[0, 16]], vector(0)),
    END,
  ];
}

/**
 * (func flush (param $sums i32) (param $lanes i32) (param $count i32) (local $end i32) (local $zero v128)
 *   $end = $lanes + $count*4
 *   for each 4 lanes: sums[0..1] += promote(lanes[0..1]); sums[2..3] += promote(lanes[2..3]); lanes[0..3] = 0
 * ) — $count a multiple of 4; $zero is never set (wasm locals start at zero).
 */
const flushBody = [
  ...vec([
    [1, I32],
    [1, V128],
  ]),
  ...localGet(1),
  ...localGet(2),
  ...i32Const(2),
  I32_SHL,
  I32_ADD,
  ...localSet(3),
  ...loopOver(
    1,
    3,
    16,
    [[0, 32]],
    [
      ...localGet(0),
      ...localGet(0),
      ...v128Load(0),
      ...localGet(1),
      ...v128Load64Zero(0),
      ...F64X2_PROMOTE_LOW_F32X4,
      ...F64X2_ADD,
      ...v128Store(0),
      ...localGet(0),
      ...localGet(0),
      ...v128Load(16),
      ...localGet(1),
      ...v128Load64Zero(8),
      ...F64X2_PROMOTE_LOW_F32X4,
      ...F64X2_ADD,
      ...v128Store(16),
      ...localGet(1),
      ...localGet(4),
      ...v128Store(0),
    ],
  ),
  END,
];

const fused = Array.from({ length: MAX_FUSED }, (_, j) => j + 1);
const moduleBytes = Uint8Array.from([
  ...WASM_HEADER,
  // Types: axpy<k> takes (i32 i32 i32, k × f32) for k = 1..MAX_FUSED (types 0..MAX_FUSED-1); flush takes (i32 i32 i32).
  ...section(1, vec([...fused.map((k) => [0x60, ...leb(3 + k), I32, I32, I32, ...Array<number>(k).fill(F32), 0]), [0x60, 3, I32, I32, I32, 0]])),
  ...section(2, vec([[...wasmName('m'), ...wasmName('mem'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([...fused.map((k) => [k - 1]), [MAX_FUSED]])),
  ...section(7, vec([...fused.map((k) => [...wasmName(`axpy${k}`), 0x00, k - 1]), [...wasmName('flush'), 0x00, MAX_FUSED]])),
  ...section(10, vec([...fused.map(axpyBody), flushBody].map((body) => [...leb(body.length), ...body]))),
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

export interface Axpy32 {
  /** Float32 partial sums, resident in the kernel's memory. */
  readonly lanes: Float32Array;
  /** The float64 sums the lanes are flushed into, resident there too (same indices as `lanes`). */
  readonly sums: Float64Array;
  /**
   * lanes[offset + i] += w[0]·xs[0][i], then += w[1]·xs[1][i], … for every i, in one pass over the lanes;
   * 1 to MAX_FUSED updates of equal length.
   */
  add(offset: number, xs: readonly Float32Array[], ws: readonly number[]): void;
  /** sums += lanes (in float64), lanes = 0. */
  flush(): void;
}

type Kernel = (acc: number, x: number, count: number, ...w: number[]) => void;

/** A kernel instance with `length` resident float32 lanes and float64 sums, or undefined without wasm SIMD. */
export function createAxpy32(length: number): Axpy32 | undefined {
  const mod = axpyModule();
  if (!mod || !wasm) return undefined;
  const padded = (length + 3) & ~3; // whole 16-byte vectors, so the float64 sums start 16-byte aligned
  const laneBase = MAX_FUSED * SLOT_BYTES;
  const sumBase = laneBase + padded * 4;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil((sumBase + padded * 8) / 65_536)) });
  const instance = new wasm.Instance(mod, { m: { mem: memory } });
  const kernels = fused.map((k) => instance.exports[`axpy${k}`] as Kernel);
  const flushKernel = instance.exports.flush as (sums: number, lanes: number, count: number) => void;
  // Never grown after this, so these views stay attached.
  const slots = fused.map((k) => new Float32Array(memory.buffer, (k - 1) * SLOT_BYTES, SCRATCH_FLOATS));
  const lanes = new Float32Array(memory.buffer, laneBase, length);
  const sums = new Float64Array(memory.buffer, sumBase, length);
  return {
    lanes,
    sums,
    add(offset, xs, ws) {
      const k = xs.length;
      if (k < 1 || k > MAX_FUSED || ws.length !== k) throw new RangeError(`axpy: 1 to ${MAX_FUSED} updates with one weight each, got ${k} and ${ws.length}`);
      const n = xs[0]!.length;
      if (xs.some((x) => x.length !== n) || offset < 0 || offset + n > length) throw new RangeError('axpy: updates of unequal length or outside the lanes');
      const wf = ws.map((w) => Math.fround(w));
      const kernel = kernels[k - 1]!;
      for (let a = 0; a < n; a += SCRATCH_FLOATS) {
        const b = Math.min(n, a + SCRATCH_FLOATS);
        const vectorEnd = a + ((b - a) & ~3);
        for (let j = 0; j < k; j++) slots[j]!.set(xs[j]!.subarray(a, b));
        if (vectorEnd > a) kernel(laneBase + (offset + a) * 4, 0, vectorEnd - a, ...wf);
        // The last 0-3 elements, with the same float32 roundings in the same order as the lanes.
        for (let i = vectorEnd; i < b; i++) {
          let v = lanes[offset + i]!;
          for (let j = 0; j < k; j++) v = Math.fround(v + Math.fround(wf[j]! * xs[j]![i]!));
          lanes[offset + i] = v;
        }
      }
    },
    flush() {
      // The padding lanes are never added to, so flushing them adds zeros to the padding sums.
      flushKernel(sumBase, laneBase, padded);
    },
  };
}
