import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { agreeKey, generateKeyPair, sharedSecret } from './index.js';
import { nativeCrypto } from './native-crypto.js';

describe('secagg key agreement (X25519: node:crypto in Node, tweetnacl in browsers)', () => {
  it('runs natively in Node (what the benchmark measures)', () => {
    assert.ok(nativeCrypto, 'process.getBuiltinModule("node:crypto") is available from Node 20.16');
  });

  it('gives the same shared point as tweetnacl, symmetric in the two parties', () => {
    for (let i = 0; i < 20; i++) {
      const a = generateKeyPair();
      const b = generateKeyPair();
      const ab = sharedSecret(a.secretKey, b.publicKey);
      assert.deepEqual(ab, nacl.scalarMult(a.secretKey, b.publicKey));
      assert.deepEqual(ab, sharedSecret(b.secretKey, a.publicKey));
      // Twice with the same secret-key array: the cached imported key gives the same answer.
      assert.deepEqual(sharedSecret(a.secretKey, b.publicKey), ab);
      assert.deepEqual(agreeKey('pairwise-mask', 3, 'x', 'y', a.secretKey, b.publicKey), agreeKey('pairwise-mask', 3, 'y', 'x', b.secretKey, a.publicKey));
    }
  });

  it('refuses low-order public keys (zero point)', () => {
    const a = generateKeyPair();
    // 0 and 1 are low-order points of Curve25519: every scalar maps them to the zero point.
    for (const low of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
      assert.throws(() => sharedSecret(a.secretKey, low), /low-order public key/);
      assert.throws(() => agreeKey('share-encryption', 1, 'x', 'y', a.secretKey, low), /low-order public key/);
    }
  });
});
