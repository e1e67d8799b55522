/**
 * The native AES-256-CTR keystream (secagg/native/aes-ctr-into.c, built at install by scripts/build-native-aes.mjs),
 * or null where it is not there: browsers, a Node without a C compiler or headers at install, or FEDREC_NATIVE_AES=0.
 * Why: node:crypto returns each keystream chunk in a fresh external buffer, and in a SecAgg+ round those buffers are
 * what start most collections (README "SecAgg+ parameters and dropout"); this one writes into memory the caller
 * reuses, with the OpenSSL Node links, so the bytes are node:crypto's (secagg/native-keystream.test.ts). Loaded through
 * the running Node (`process.getBuiltinModule`), so no Node built-in reaches a browser bundle.
 */

export interface NativeKeystream {
  /** Fills `out` with the AES-256-CTR keystream of `key` (32 bytes) from the 16-byte initial counter block. */
  aesCtrInto(key: Uint8Array, counterBlock: Uint8Array, out: Uint8Array): void;
}

type ProcessLike = { getBuiltinModule?: (id: string) => unknown; env?: Record<string, string | undefined> };
type ModuleLike = { createRequire(from: string): (id: string) => unknown };

/** The addon, or null; `reason` says why not (for the bench's header line and the tests). */
function load(): { native: NativeKeystream | null; reason: string } {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as ModuleLike | undefined;
  if (!mod) return { native: null, reason: 'not Node' };
  if (proc?.env?.['FEDREC_NATIVE_AES'] === '0') return { native: null, reason: 'FEDREC_NATIVE_AES=0' };
  // ImportMeta is typed without `url` in the universal build (no DOM, no @types/node); Node's ESM always has it.
  const here = (import.meta as { url?: string }).url;
  if (!here) return { native: null, reason: 'no module URL' };
  try {
    const addon = mod.createRequire(here)('./native/build/aes-ctr-into.node') as Partial<NativeKeystream>;
    if (typeof addon.aesCtrInto !== 'function') return { native: null, reason: 'the addon has no aesCtrInto' };
    return { native: addon as NativeKeystream, reason: 'built' };
  } catch (err) {
    return { native: null, reason: `not built (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}

const loaded = load();

/** The native keystream in this Node, or null (masks then come from node:crypto, or from @noble/ciphers in browsers). */
export const nativeKeystream: NativeKeystream | null = loaded.native;

/** Why the native keystream is or is not in use, in a few words. */
export const nativeKeystreamStatus: string = loaded.reason;
