/**
 * node:crypto when the platform has it, without importing it: secagg also runs in browsers (no Node built-ins may
 * reach the bundle), so it asks the running Node for the module (`process.getBuiltinModule`, Node ≥ 20.16) and
 * falls back to the pure-JS implementations elsewhere. Only the few calls secagg uses are typed here, because the
 * package compiles without @types/node. Both paths produce identical bytes (tests compare them, also in Chromium).
 */

export interface NativeCipher {
  update(data: Uint8Array): Uint8Array;
}

/** An opaque node:crypto KeyObject. */
export type NativeKey = object;

export interface NativeCrypto {
  createCipheriv(algorithm: 'aes-256-ctr', key: Uint8Array, iv: Uint8Array): NativeCipher;
  createPrivateKey(options: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NativeKey;
  createPublicKey(options: { key: { kty: 'OKP'; crv: 'X25519'; x: string }; format: 'jwk' }): NativeKey;
  diffieHellman(options: { privateKey: NativeKey; publicKey: NativeKey }): Uint8Array;
}

type ProcessLike = { getBuiltinModule?: (id: string) => unknown };

function load(): NativeCrypto | null {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as Partial<NativeCrypto> | undefined;
  return mod?.createCipheriv && mod.diffieHellman && mod.createPrivateKey && mod.createPublicKey ? (mod as NativeCrypto) : null;
}

/** node:crypto in Node, null in browsers (and in Node older than 20.16, which then runs the pure-JS paths). */
export const nativeCrypto: NativeCrypto | null = load();
