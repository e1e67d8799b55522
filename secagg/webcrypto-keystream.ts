import type { MaskKeystream } from './mask-job.js';

/**
 * The part of WebCrypto's SubtleCrypto a mask keystream needs, typed here: secagg compiles without the DOM library
 * or @types/node (types/universal-globals.d.ts). Browsers' `crypto.subtle` and Node's `globalThis.crypto.subtle` fit.
 */
export interface AesCtrSubtle {
  importKey(format: 'raw', keyData: Uint8Array<ArrayBuffer>, algorithm: 'AES-CTR', extractable: false, usages: ['encrypt']): Promise<unknown>;
  encrypt(algorithm: { name: 'AES-CTR'; counter: Uint8Array<ArrayBuffer>; length: 128 }, key: unknown, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

/**
 * prg.ts's mask keystream from WebCrypto's native AES-256-CTR (the seed as key, the all-zero initial counter block,
 * the whole 128-bit block incremented: `length: 128`), for expandMaskJobWith. The browser's mask worker runs it
 * (client-sdk/browser/mask-worker.ts); the same function is checked against prg.ts in Node.
 */
export function webCryptoKeystream(subtle: AesCtrSubtle): MaskKeystream {
  return async (seed, bytes) => {
    // WebCrypto takes only ArrayBuffer-backed bytes: the 32-byte seed is copied into one.
    const key = await subtle.importKey('raw', new Uint8Array(seed), 'AES-CTR', false, ['encrypt']);
    return new Uint8Array(await subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 128 }, key, new Uint8Array(bytes)));
  };
}
