import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { generateKeyPair, sharedSecret, sharedSecrets, webCryptoX25519, type SharedSecrets, type X25519Subtle } from './index.js';

const subtle = globalThis.crypto.subtle as unknown as X25519Subtle;

async function shipped(on: X25519Subtle = subtle): Promise<SharedSecrets> {
  const agree = await webCryptoX25519(on);
  assert.ok(agree, 'X25519 in this WebCrypto');
  return agree;
}

/** What `run` throws or rejects with, as name and message. */
async function refusal(run: () => unknown): Promise<{ name: string; message: string }> {
  try {
    await run();
  } catch (err) {
    return { name: (err as Error).constructor.name, message: (err as Error).message };
  }
  assert.fail('not refused');
}

// Low-order points of Curve25519 (0, 1 and one of order 8): every scalar maps them to the zero point.
const LOW_ORDER = [
  new Uint8Array(32),
  Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)),
  Uint8Array.from(Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')),
];

describe('secagg X25519 from WebCrypto (the browser mask worker’s agreements; Node’s WebCrypto here)', () => {
  it('gives sharedSecret’s points in order, for ordinary keys, keys with the top bit set and non-canonical ones (u ≥ p)', async () => {
    const agree = await shipped();
    const { secretKey } = generateKeyPair();
    const topBit = generateKeyPair().publicKey;
    topBit[31]! |= 0x80;
    const nonCanonical = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 0x7f : 0xff)); // 2^255 - 1
    const keys = [...Array.from({ length: 12 }, () => generateKeyPair().publicKey), topBit, nonCanonical];
    const points = await agree(secretKey, keys);
    assert.deepEqual(
      points,
      keys.map((key) => sharedSecret(secretKey, key)),
    );
    assert.deepEqual(points[12], nacl.scalarMult(secretKey, topBit)); // RFC 7748: the top bit is ignored
    assert.deepEqual(await agree(secretKey, []), []);
  });

  it('refuses a low-order key with sharedSecret’s RangeError, also when WebCrypto hands back the zero point itself', async () => {
    const agree = await shipped();
    const { secretKey } = generateKeyPair();
    for (const low of LOW_ORDER) {
      const keys = [generateKeyPair().publicKey, low, generateKeyPair().publicKey];
      const expected = await refusal(() => sharedSecret(secretKey, low));
      assert.equal(expected.name, 'RangeError');
      assert.deepEqual(await refusal(() => agree(secretKey, keys)), expected);
    }
    // A WebCrypto that answers the zero point instead of refusing it (Node and Chromium refuse, with an OperationError),
    // once it has passed the known-answer check.
    let checked = false;
    const zeroes: X25519Subtle = {
      importKey: (...args) => subtle.importKey(...args),
      deriveBits: async (...args) => (checked ? new ArrayBuffer(32) : subtle.deriveBits(...args)),
    };
    const agreeZero = await shipped(zeroes);
    checked = true;
    assert.deepEqual(await refusal(() => agreeZero(secretKey, [generateKeyPair().publicKey])), await refusal(() => sharedSecret(secretKey, LOW_ORDER[0]!)));
  });

  it('refuses keys of the wrong size as sharedSecret does', async () => {
    const agree = await shipped();
    const { secretKey, publicKey } = generateKeyPair();
    for (const [sk, pk] of [
      [secretKey, publicKey.subarray(1)],
      [secretKey.subarray(0, 31), publicKey],
    ] as const) {
      assert.deepEqual(await refusal(() => agree(sk, [publicKey, pk])), await refusal(() => sharedSecrets(sk, [publicKey, pk])));
    }
  });

  it('imports the private key once per call and asks for all k derivations before any is answered', async () => {
    const k = 6;
    const imported: string[] = [];
    let asked = 0;
    let allAsked!: () => void;
    const gate = new Promise<void>((resolve) => (allAsked = resolve));
    const counting: X25519Subtle = {
      importKey: (format, ...rest) => (imported.push(format), subtle.importKey(format, ...rest)),
      deriveBits: async (...args) => {
        if (++asked === k + 1) allAsked(); // the first is the known-answer check's
        if (asked > 1) await gate;
        return subtle.deriveBits(...args);
      },
    };
    const agree = await shipped(counting);
    imported.length = 0;
    const { secretKey } = generateKeyPair();
    const keys = Array.from({ length: k }, () => generateKeyPair().publicKey);
    assert.deepEqual(
      await agree(secretKey, keys),
      keys.map((key) => sharedSecret(secretKey, key)),
    );
    assert.deepEqual(imported, ['pkcs8', ...Array<string>(k).fill('raw')]);
  });

  it('is undefined where WebCrypto has no X25519 or answers RFC 7748’s test vector wrongly (callers keep sharedSecrets)', async () => {
    const missing: X25519Subtle = {
      importKey: async () => Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError')),
      deriveBits: (...args) => subtle.deriveBits(...args),
    };
    assert.equal(await webCryptoX25519(missing), undefined);
    const wrong: X25519Subtle = {
      importKey: (...args) => subtle.importKey(...args),
      deriveBits: async (...args) => new Uint8Array(await subtle.deriveBits(...args)).map((b, i) => (i === 0 ? b ^ 1 : b)).buffer,
    };
    assert.equal(await webCryptoX25519(wrong), undefined);
  });
});
