// The few globals that Node 20+ and every browser both provide. Packages that run in both
// (protocol, secagg, models, recsys) compile against ES2022 plus these, never against DOM or
// @types/node, so a browser-only or Node-only global in them is a type error.

interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare var TextDecoder: { new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder };

declare var performance: { now(): number };

// WebCrypto's subset protocol/envelope.ts uses (AES-256-GCM keyed by HKDF-SHA256): globalThis.crypto.subtle
// in Node 20+ and in every browser's secure contexts.
interface CryptoKey {
  readonly type: string;
}
interface SubtleCrypto {
  importKey(format: 'raw', keyData: Uint8Array, algorithm: 'HKDF' | { name: string }, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  deriveKey(
    algorithm: { name: 'HKDF'; hash: string; salt: Uint8Array; info: Uint8Array },
    baseKey: CryptoKey,
    derivedKeyType: { name: string; length: number },
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>;
  encrypt(algorithm: { name: string; iv: Uint8Array; additionalData?: Uint8Array; tagLength?: number }, key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: string; iv: Uint8Array; additionalData?: Uint8Array; tagLength?: number }, key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
}
