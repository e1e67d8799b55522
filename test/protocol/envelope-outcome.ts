import assert from 'node:assert/strict';
import { VECTOR, type VectorOutcome } from './envelope-vectors.js';

/**
 * What every cipher must show on the shared vector, in Node and in Chromium alike: kept here (not in
 * envelope-vectors.ts) because that file is bundled into the page, and node:assert must stay out of it.
 */
export function assertVectorOutcome(outcome: VectorOutcome, cipher: VectorOutcome['cipher']): void {
  assert.equal(outcome.cipher, cipher);
  assert.equal(outcome.ciphertextHex, VECTOR.ciphertextHex);
  assert.ok(outcome.reopened);
  assert.ok(outcome.sessionRoundTrip);
  assert.deepEqual(outcome.tamperCodes, Array(9).fill('ENVELOPE_REJECTED'));
  // Sealed in place (the SDK's path): the same bytes, and the ciphertext is the plaintext's own memory.
  assert.equal(outcome.inPlaceHex, VECTOR.ciphertextHex);
  assert.ok(outcome.sealInPlaceRoundTrip);
  assert.ok(outcome.sealInPlaceSameBuffer);
}
