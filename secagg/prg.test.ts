import assert from 'node:assert/strict';
import { addMask, aesCtrKeystream, chacha20Keystream, expandMask } from './index.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('secagg PRG (AES-256-CTR keystream as uint32; ChaCha20 for the graph shuffle)', () => {
  it('matches RFC 8439 §2.3.2 (block function test vector)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = hex('000000090000004a00000000');
    const block = chacha20Keystream(key, nonce, 64, 1);
    assert.equal(
      toHex(block),
      '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' + 'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e',
    );
  });

  it('AES-256-CTR keystream matches NIST SP 800-38A F.5.5, natively and in pure JS', () => {
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const iv = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
    // Keystream = plaintext XOR ciphertext of the standard's first two blocks.
    const expected = '0bdf7df1591716335e9a8b15c860c502' + '5a6e699d536119065433863c8f657b94';
    assert.equal(toHex(aesCtrKeystream(key, iv, 32)), expected);
    assert.equal(toHex(aesCtrKeystream(key, iv, 32, true)), expected);
  });

  it('expandMask(zero seed) starts with AES-256(zero key, zero block) read as little-endian words', () => {
    // The known answer test/secagg/browser.test.ts also checks in Chromium (where the pure-JS path runs).
    const words = expandMask(new Uint8Array(32), 4);
    const view = new DataView(hex('dc95c078a2408989ad48a21492842087').buffer);
    assert.deepEqual(
      Array.from(words),
      Array.from({ length: 4 }, (_, i) => view.getUint32(4 * i, true)),
    );
  });

  it('is deterministic, streams across 64 KiB chunk boundaries identically, and differs per seed', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 1);
    const n = 40_000; // 160 kB: three chunks
    const a = expandMask(seed, n);
    const b = expandMask(seed, n);
    assert.deepEqual(a, b);
    // The whole keystream in one call, by both backends: the chunked native stream must equal it.
    const whole = aesCtrKeystream(seed, new Uint8Array(16), 4 * n);
    assert.deepEqual(whole, aesCtrKeystream(seed, new Uint8Array(16), 4 * n, true));
    const view = new DataView(whole.buffer);
    for (const i of [0, 16383, 16384, 16385, 32768, n - 1]) assert.equal(a[i], view.getUint32(4 * i, true), `word ${i}`);
    const other = expandMask(
      Uint8Array.from(seed, (x, i) => (i === 0 ? x ^ 1 : x)),
      n,
    );
    let same = 0;
    for (let i = 0; i < n; i++) same += a[i] === other[i] ? 1 : 0;
    assert.ok(same < 5);
    // Shorter expansions are prefixes: a client and the server agree whatever length they stream.
    assert.deepEqual(expandMask(seed, 100), a.subarray(0, 100));
  });

  it('adding then subtracting a mask restores the vector modulo 2^32', () => {
    const seed = new Uint8Array(32).fill(9);
    const v = Uint32Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 0);
    const masked = v.slice();
    addMask(masked, seed, 1);
    assert.notDeepEqual(masked, v);
    addMask(masked, seed, -1);
    assert.deepEqual(masked, v);
    assert.throws(() => addMask(masked, new Uint8Array(16), 1), RangeError);
  });
});
