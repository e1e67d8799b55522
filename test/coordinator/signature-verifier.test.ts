import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { PROTOCOL_VERSION, fromHex, signHandshakeProof, toHex, verifyHandshakeProof } from '@fedrec/protocol';
import { verifyEd25519Hex, verifyHandshakeProofNative } from '@fedrec/coordinator/signature-verifier.js';

// The coordinator checks handshake proofs with node:crypto; devices sign with tweetnacl. These tests hold
// the two verifiers to the same verdicts, so moving the check to OpenSSL changes speed, not who gets in.

const naclVerify = (message: Uint8Array, signatureHex: string, publicKeyHex: string): boolean => {
  try {
    return nacl.sign.detached.verify(message, fromHex(signatureHex), fromHex(publicKeyHex));
  } catch {
    return false;
  }
};

/** Small-order points (orders 1, 2, 4, 8) and non-canonical encodings of them (libsodium's blocklist). */
const LOW_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
];

/** The Ed25519 group order L, little-endian, as a BigInt helper for the non-canonical S case. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToLe = (n: bigint, len: number) => Uint8Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

describe('handshake signatures: node:crypto Ed25519 agrees with tweetnacl', () => {
  it('accepts what tweetnacl signs, and both refuse every tampered message, signature and key', () => {
    for (let k = 0; k < 40; k++) {
      const pair = nacl.sign.keyPair();
      const message = nacl.randomBytes(1 + k * 7);
      const sig = nacl.sign.detached(message, pair.secretKey);
      const pk = toHex(pair.publicKey);
      assert.equal(verifyEd25519Hex(message, toHex(sig), pk), true);
      assert.equal(naclVerify(message, toHex(sig), pk), true);
      const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
      const bit = (b: Uint8Array, i: number) => {
        const c = Uint8Array.from(b);
        c[i % c.length]! ^= 1 << (i % 8);
        return c;
      };
      cases.push([bit(message, k), sig, pair.publicKey]);
      cases.push([message, bit(sig, k), pair.publicKey]); // R
      cases.push([message, bit(sig, 32 + k), pair.publicKey]); // S
      cases.push([message, sig, bit(pair.publicKey, k)]);
      for (const [m, s, p] of cases) {
        const n = naclVerify(m, toHex(s), toHex(p));
        assert.equal(verifyEd25519Hex(m, toHex(s), toHex(p)), n, `case ${k}`);
        assert.equal(n, false);
      }
    }
  });

  it('refuses malformed hex before any curve arithmetic, as the protocol path does', () => {
    const pair = nacl.sign.keyPair();
    const message = new Uint8Array([1, 2, 3]);
    const sig = toHex(nacl.sign.detached(message, pair.secretKey));
    const pk = toHex(pair.publicKey);
    for (const [s, p] of [
      ['', pk],
      [sig.slice(2), pk],
      [`${sig}00`, pk],
      [sig.toUpperCase(), pk], // signatures are lowercase hex on the wire
      [`zz${sig.slice(2)}`, pk],
      [sig, ''],
      [sig, pk.slice(2)],
      [sig, `${pk}00`],
      [sig, `zz${pk.slice(2)}`],
    ] as const) {
      assert.equal(verifyEd25519Hex(message, s, p), false, `${s.length}/${p.length}`);
    }
    // Upper-case keys verify on both paths (the protocol's check allows them).
    assert.equal(verifyEd25519Hex(message, sig, pk.toUpperCase()), true);
  });

  it('gives the same verdict as tweetnacl for low-order and non-canonical keys (forgeable ones included)', () => {
    const message = new TextEncoder().encode('fedrec low-order probe');
    let accepted = 0;
    for (const a of LOW_ORDER) {
      for (const r of LOW_ORDER) {
        for (const s of ['00'.repeat(32), `01${'00'.repeat(31)}`]) {
          const verdict = naclVerify(message, r + s, a);
          assert.equal(verifyEd25519Hex(message, r + s, a), verdict, `A ${a} R ${r} S ${s}`);
          if (verdict) accepted += 1;
        }
      }
      const random = toHex(nacl.randomBytes(64));
      assert.equal(verifyEd25519Hex(message, random, a), naclVerify(message, random, a));
    }
    // Some of these forgeries do verify (on both): the probe really exercises acceptance, not only refusal.
    assert.ok(accepted > 0);
  });

  it('is stricter in one documented case: a non-canonical S (S + L), which tweetnacl accepts', () => {
    const pair = nacl.sign.keyPair();
    const message = new Uint8Array([9, 9, 9]);
    const sig = nacl.sign.detached(message, pair.secretKey);
    const malleated = Uint8Array.from(sig);
    malleated.set(bigToLe(leToBig(sig.subarray(32)) + L, 32), 32);
    assert.equal(naclVerify(message, toHex(malleated), toHex(pair.publicKey)), true);
    assert.equal(verifyEd25519Hex(message, toHex(malleated), toHex(pair.publicKey)), false);
  });

  it('checks a real handshake proof exactly as the protocol does', () => {
    const device = nacl.sign.keyPair();
    const context = { nonce: nacl.randomBytes(32), clientId: 'd-1', fingerprint: 'sha512:abc', protocolVersion: PROTOCOL_VERSION };
    const proof = signHandshakeProof(device.secretKey, context);
    const pk = toHex(device.publicKey);
    assert.equal(verifyHandshakeProofNative(pk, proof, context), true);
    assert.equal(verifyHandshakeProof(pk, proof, context), true);
    for (const other of [
      { ...context, nonce: new Uint8Array(32) },
      { ...context, clientId: 'd-2' },
      { ...context, fingerprint: 'sha512:abd' },
    ]) {
      assert.equal(verifyHandshakeProofNative(pk, proof, other), false);
      assert.equal(verifyHandshakeProof(pk, proof, other), false);
    }
  });
});
