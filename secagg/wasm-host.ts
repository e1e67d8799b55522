/**
 * The host's WebAssembly, as secagg's hand-encoded kernels use it (word-sum.ts, quantize-kernel.ts): compile a
 * module once, give each instance a memory it imports as env.memory. The few calls are typed here because secagg
 * compiles against ES2022 only (no DOM, no @types/node). A kernel is only compiled on a little-endian host: wasm
 * memory is little-endian, and the kernels' callers copy host-order typed arrays in and out of it.
 */

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
export const WASM_PAGE_BYTES = 64 * 1024;

export type WasmModule = object;
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The compiled module, or null where WebAssembly (or an instruction the module uses) is missing or the host is big-endian. */
export function compileKernel(bytes: Uint8Array): WasmModule | null {
  if (!LITTLE_ENDIAN_HOST || !wasm || !wasm.validate(bytes)) return null;
  return new wasm.Module(bytes);
}

/** A fresh memory of `bytes` (whole pages) and an instance of `module` on it. */
export function instantiateKernel(module: WasmModule, bytes: number): { memory: WasmMemory; exports: Record<string, unknown> } {
  const memory = new wasm!.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
  return { memory, exports: new wasm!.Instance(module, { env: { memory } }).exports };
}
