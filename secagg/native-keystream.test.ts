import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { addMask, aesCtrKeystream, expandMask, WordSum } from './index.js';
import { nativeKeystream, nativeKeystreamStatus } from './native-keystream.js';

/** node:crypto's AES-256-CTR keystream: what the addon must reproduce byte for byte. */
const reference = (key: Uint8Array, counterBlock: Uint8Array, bytes: number) =>
  new Uint8Array(createCipheriv('aes-256-ctr', key, counterBlock).update(new Uint8Array(bytes)));

describe('secagg native AES-256-CTR keystream (secagg/native/aes-ctr-into.c, built at install)', () => {
  // Built by `npm ci`'s postinstall (scripts/build-native-aes.mjs): a C compiler and Node's headers are part of the
  // setup (.ci/run installs the compiler where it is missing). Not built is a failed setup here, not a skip.
  const addon = () => {
    assert.ok(nativeKeystream, `the native keystream is ${nativeKeystreamStatus}`);
    return nativeKeystream;
  };

  it('is built and loaded by this Node', () => {
    assert.equal(nativeKeystreamStatus, 'built');
    assert.equal(typeof addon().aesCtrInto, 'function');
  });

  it('gives node:crypto’s bytes for every length and counter block, writing into the caller’s buffer', () => {
    const { aesCtrInto } = addon();
    const carry = Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? 0 : 0xff)); // the increment carries into byte 7
    for (const counterBlock of [new Uint8Array(16), carry, new Uint8Array(randomBytes(16))]) {
      for (const bytes of [0, 1, 15, 16, 17, 4096, 65_536, 400_004]) {
        const key = new Uint8Array(randomBytes(32));
        const out = new Uint8Array(bytes).fill(0xa5); // stale bytes must not leak into the keystream
        aesCtrInto(key, counterBlock, out);
        assert.deepEqual(out, reference(key, counterBlock, bytes), `${bytes} bytes`);
      }
    }
    // A view into a larger buffer: only the view is written.
    const backing = new Uint8Array(64).fill(7);
    const key = new Uint8Array(randomBytes(32));
    aesCtrInto(key, new Uint8Array(16), backing.subarray(16, 48));
    assert.deepEqual(backing.subarray(16, 48), reference(key, new Uint8Array(16), 32));
    assert.ok(backing.subarray(0, 16).every((b) => b === 7) && backing.subarray(48).every((b) => b === 7));
  });

  it('refuses arguments of the wrong kind or size with a TypeError, writing nothing', () => {
    const { aesCtrInto } = addon();
    const out = new Uint8Array(32).fill(9);
    const call = (...args: unknown[]) => (aesCtrInto as (...a: unknown[]) => void)(...args);
    for (const args of [
      [new Uint8Array(31), new Uint8Array(16), out],
      [new Uint8Array(33), new Uint8Array(16), out],
      [new Uint8Array(32), new Uint8Array(15), out],
      [new Uint8Array(32), new Uint8Array(16), new Uint32Array(8)],
      [new Uint8Array(32), new Uint8Array(16), 'out'],
      ['key', new Uint8Array(16), out],
      [new Uint8Array(32), new Uint8Array(16)],
    ]) {
      assert.throws(() => call(...args), TypeError);
    }
    assert.ok(out.every((b) => b === 9));
  });

  it('is the mask PRG: expandMask and addMask give node:crypto’s and pure JS’s keystream', () => {
    const seed = new Uint8Array(randomBytes(32));
    const words = 100_001; // not a whole number of 64 KiB chunks or of AES blocks
    const expected = aesCtrKeystream(seed, new Uint8Array(16), 4 * words, true); // @noble/ciphers
    assert.deepEqual(new Uint8Array(expandMask(seed, words).buffer), expected);
    const sum = new WordSum(words);
    addMask(sum, seed, 1);
    addMask(sum, seed, -1);
    assert.ok(sum.toUint32Array().every((w) => w === 0));
  });

  it('FEDREC_NATIVE_AES=0 leaves masks to node:crypto, with the same bytes', async function () {
    this.timeout(60_000); // a fresh Node with tsx's loader
    const script = [
      "const { nativeKeystreamStatus } = await import('@fedrec/secagg/native-keystream.js');",
      "const { expandMask } = await import('@fedrec/secagg');",
      'const seed = Uint8Array.from({ length: 32 }, (_, i) => i);',
      'console.log(JSON.stringify({ status: nativeKeystreamStatus, words: Array.from(expandMask(seed, 70_001).subarray(70_000 - 3)) }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, FEDREC_NATIVE_AES: '0' },
    });
    const child = JSON.parse(stdout) as { status: string; words: number[] };
    assert.equal(child.status, 'FEDREC_NATIVE_AES=0');
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.deepEqual(child.words, Array.from(expandMask(seed, 70_001).subarray(70_000 - 3)));
  });
});
