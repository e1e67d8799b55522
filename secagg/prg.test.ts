import assert from 'node:assert/strict';
import { addMask, chacha20Keystream, expandMask } from './index.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('secagg PRG (ChaCha20 keystream as uint32)', () => {
  it('matches RFC 8439 §2.3.2 (block function test vector)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = hex('000000090000004a00000000');
    const block = chacha20Keystream(key, nonce, 64, 1);
    assert.equal(
      toHex(block),
      '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' + 'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e',
    );
  });

  it('expandMask(zero seed) is the RFC 8439 A.1 test vector #1 read as little-endian words', () => {
    const words = expandMask(new Uint8Array(32), 16);
    const expected = hex('76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586');
    const view = new DataView(expected.buffer);
    assert.deepEqual(
      Array.from(words),
      Array.from({ length: 16 }, (_, i) => view.getUint32(4 * i, true)),
    );
    assert.equal(words[0], 0xade0b876);
  });

  it('is deterministic, streams across 64 KiB chunk boundaries identically, and differs per seed', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 1);
    const n = 40_000; // 160 kB: three chunks
    const a = expandMask(seed, n);
    const b = expandMask(seed, n);
    assert.deepEqual(a, b);
    const whole = chacha20Keystream(seed, new Uint8Array(12), 4 * n);
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
