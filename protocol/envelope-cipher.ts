/**
 * The native AES-256-GCM and HKDF-SHA256 under the envelope, in two interchangeable implementations that
 * compute the same bytes (the test vectors check both):
 * - node:crypto, in Node: its cipher runs synchronously on the calling thread at GB/s. WebCrypto in Node
 *   runs the same OpenSSL code but hops to the libuv pool and back per call and copies input and output
 *   around it, which cost more than the cipher itself at MiB sizes (and the pool has 4 threads shared with
 *   file I/O).
 * - WebCrypto (crypto.subtle), everywhere else: the only native AEAD a browser offers.
 * node:crypto is reached with `process.getBuiltinModule` (Node 20.16+), not an import, so this file stays
 * universal: a browser bundle has no `process` and takes WebCrypto; an older Node takes WebCrypto too.
 */

/** A derived AES-256 key, opaque outside this file; it remembers which implementation made it. */
export interface EnvelopeKey {
  readonly cipher: EnvelopeCipherName;
}

export type EnvelopeCipherName = 'node:crypto' | 'webcrypto';

/** The same three operations in either implementation. Decryption failure of any kind rejects. */
export interface EnvelopeCipher {
  readonly name: EnvelopeCipherName;
  deriveKey(secret: Uint8Array, salt: Uint8Array, info: Uint8Array): Promise<EnvelopeKey>;
  /**
   * Ciphertext with the 16-byte tag appended. `into` (exactly plaintext.length + 16 bytes) receives it instead
   * of a new buffer, and is what resolves: a caller that seals message after message reuses memory it has
   * already touched (see SEAL_STEP). It may be the plaintext's own memory, starting at the same byte (in place).
   */
  encrypt(key: EnvelopeKey, nonce: Uint8Array, additionalData: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Promise<Uint8Array>;
  decrypt(key: EnvelopeKey, nonce: Uint8Array, additionalData: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
}

export const AES_GCM_TAG_BYTES = 16;
/** Bytes per node:crypto update() when sealing (see encrypt). */
const SEAL_STEP = 64 * 1024;

// ---- node:crypto, typed locally (this package compiles without @types/node) ----

interface NodeBytes extends Uint8Array {
  readonly length: number;
}
interface NodeCipher {
  setAAD(aad: Uint8Array): void;
  update(data: Uint8Array): NodeBytes;
  final(): NodeBytes;
  getAuthTag(): NodeBytes;
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): void;
  setAuthTag(tag: Uint8Array): void;
  update(data: Uint8Array): NodeBytes;
  final(): NodeBytes;
}
interface NodeCrypto {
  createCipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeCipher;
  createDecipheriv(algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeDecipher;
  hkdfSync(digest: 'sha256', ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, keylen: number): ArrayBuffer;
}

interface NodeKey extends EnvelopeKey {
  readonly cipher: 'node:crypto';
  readonly raw: Uint8Array;
}

/** node:crypto when this runtime is Node with `process.getBuiltinModule`, else undefined. */
function nodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as unknown as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:crypto') as NodeCrypto | undefined) : undefined;
}

/**
 * The bytes as a plain Uint8Array that owns its whole ArrayBuffer, as WebCrypto returns them: callers
 * may transfer `.buffer` to a worker, which must never detach a slab shared with other Buffers. The
 * cipher's output normally owns its memory already (then no copy), a pooled Buffer is copied.
 */
const owned = (b: Uint8Array) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer, 0, b.byteLength) : Uint8Array.from(b));

function nodeCipher(c: NodeCrypto): EnvelopeCipher {
  const raw = (key: EnvelopeKey) => {
    if (key.cipher !== 'node:crypto') throw new TypeError(`a ${key.cipher} key cannot be used with node:crypto`);
    return (key as NodeKey).raw;
  };
  return {
    name: 'node:crypto',
    deriveKey(secret, salt, info) {
      const key: NodeKey = { cipher: 'node:crypto', raw: new Uint8Array(c.hkdfSync('sha256', secret, salt, info, 32)) };
      return Promise.resolve(key);
    },
    encrypt(key, nonce, additionalData, plaintext, into) {
      const out = outputFor(plaintext, into);
      const cipher = c.createCipheriv('aes-256-gcm', raw(key), nonce, { authTagLength: AES_GCM_TAG_BYTES });
      cipher.setAAD(additionalData);
      // One output buffer, ciphertext then tag, filled in 64 KiB steps: update() allocates what it returns,
      // and small pieces come from (and go back to) the allocator's reused memory where one piece the size
      // of the message would be fresh pages, whose first touch costs more than the cipher on a VM. Each step
      // reads its piece of plaintext before writing the same range of `out`, so sealing in place is safe.
      let at = 0;
      for (let i = 0; i < plaintext.length; i += SEAL_STEP) {
        const piece = cipher.update(plaintext.subarray(i, Math.min(plaintext.length, i + SEAL_STEP)));
        out.set(piece, at);
        at += piece.length;
      }
      const tail = cipher.final(); // empty for GCM (a stream mode): update() returned every byte
      if (at + tail.length !== plaintext.length) throw new Error('AES-GCM returned an unexpected length');
      out.set(tail, at);
      out.set(cipher.getAuthTag(), plaintext.length);
      return Promise.resolve(out);
    },
    decrypt(key, nonce, additionalData, sealed) {
      try {
        if (sealed.length < AES_GCM_TAG_BYTES) throw new RangeError('shorter than the tag');
        const decipher = c.createDecipheriv('aes-256-gcm', raw(key), nonce, { authTagLength: AES_GCM_TAG_BYTES });
        decipher.setAAD(additionalData);
        decipher.setAuthTag(sealed.subarray(sealed.length - AES_GCM_TAG_BYTES));
        // Subarrays, not copies: the cipher reads the caller's bytes in place. The plaintext update()
        // returns is released to the caller only after final() has checked the tag.
        const body = decipher.update(sealed.subarray(0, sealed.length - AES_GCM_TAG_BYTES));
        const tail = decipher.final();
        if (tail.length === 0) return Promise.resolve(owned(body));
        const out = new Uint8Array(body.length + tail.length);
        out.set(body, 0);
        out.set(tail, body.length);
        return Promise.resolve(out);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}

/** The caller's output buffer (checked: exactly ciphertext + tag), or a new one. */
function outputFor(plaintext: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  const length = plaintext.length + AES_GCM_TAG_BYTES;
  if (!into) return new Uint8Array(length);
  if (into.length !== length) throw new RangeError(`the output buffer must hold ${length} bytes (plaintext + tag), it holds ${into.length}`);
  if (
    into.buffer === plaintext.buffer &&
    into.byteOffset !== plaintext.byteOffset &&
    into.byteOffset < plaintext.byteOffset + plaintext.length &&
    plaintext.byteOffset < into.byteOffset + length
  )
    throw new RangeError('the output buffer overlaps the plaintext at another offset (in place means the same first byte)');
  return into;
}

// ---- WebCrypto, typed locally (neither DOM nor Node types here) ----

interface AeadParams {
  name: string;
  iv: Uint8Array;
  additionalData: Uint8Array;
  tagLength: number;
}

interface Subtle {
  importKey(format: 'raw', keyData: Uint8Array, algorithm: 'HKDF', extractable: boolean, usages: string[]): Promise<unknown>;
  deriveKey(
    algorithm: { name: 'HKDF'; hash: string; salt: Uint8Array; info: Uint8Array },
    baseKey: unknown,
    derivedKeyType: { name: string; length: number },
    extractable: boolean,
    usages: string[],
  ): Promise<unknown>;
  encrypt(algorithm: AeadParams, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: AeadParams, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

interface WebKey extends EnvelopeKey {
  readonly cipher: 'webcrypto';
  /** A non-extractable CryptoKey. */
  readonly handle: unknown;
}

/** WebCrypto: globalThis.crypto.subtle in Node 20+ and every browser (secure contexts). */
function subtle(): Subtle {
  const s = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available: a browser page must be a secure context (https or localhost)');
  return s;
}

const webCryptoCipher: EnvelopeCipher = {
  name: 'webcrypto',
  async deriveKey(secret, salt, info) {
    const base = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    const handle = await subtle().deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info }, base, { name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const key: WebKey = { cipher: 'webcrypto', handle };
    return key;
  },
  async encrypt(key, nonce, additionalData, plaintext, into) {
    if (into) outputFor(plaintext, into); // checked before the work, as node:crypto does
    const out = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData, tagLength: 128 }, webHandle(key), plaintext));
    // WebCrypto always returns a new buffer: `into` gets a copy (same bytes, no saving).
    if (!into) return out;
    into.set(out);
    return into;
  },
  async decrypt(key, nonce, additionalData, sealed) {
    const out = await subtle().decrypt({ name: 'AES-GCM', iv: nonce, additionalData, tagLength: 128 }, webHandle(key), sealed);
    return new Uint8Array(out);
  },
};

function webHandle(key: EnvelopeKey): unknown {
  if (key.cipher !== 'webcrypto') throw new TypeError(`a ${key.cipher} key cannot be used with WebCrypto`);
  return (key as WebKey).handle;
}

let nodeCipherCache: EnvelopeCipher | null | undefined;

/**
 * The implementation by name; 'native' (the default everywhere) is node:crypto where the runtime has it,
 * else WebCrypto. Throws for 'node:crypto' outside Node.
 */
export function envelopeCipher(name: EnvelopeCipherName | 'native' = 'native'): EnvelopeCipher {
  if (name === 'webcrypto') return webCryptoCipher;
  if (nodeCipherCache === undefined) {
    const c = nodeCrypto();
    nodeCipherCache = c ? nodeCipher(c) : null;
  }
  if (nodeCipherCache) return nodeCipherCache;
  if (name === 'node:crypto') throw new Error('node:crypto is not available in this runtime');
  return webCryptoCipher;
}
