import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { OperatorAccess } from '@fedrec/coordinator/operator-access.js';

// /api/status renames every selected client per request; the cache must give the very names the HMAC gives.
describe('coordinator: pseudonym cache', () => {
  const key = new Uint8Array(32).fill(7);
  const expected = (id: string) => `p-${createHmac('sha256', key).update(id).digest('hex').slice(0, 16)}`;

  it('returns the keyed-hash pseudonym, the same on a repeat, and stays right past the cache bound', () => {
    const access = new OperatorAccess(undefined, key);
    assert.equal(access.pseudonym('device-1'), expected('device-1'));
    assert.equal(access.pseudonym('device-1'), expected('device-1'));
    // More ids than the cache holds: it empties and refills, every name still the HMAC's.
    for (let i = 0; i < 60_000; i++) access.pseudonym(`d-${i}`);
    for (const id of ['d-0', 'd-59999', 'device-1']) assert.equal(access.pseudonym(id), expected(id));
  });

  it('an operator sees raw ids, everyone else pseudonyms', () => {
    const access = new OperatorAccess('a-long-operator-token', key);
    assert.equal(access.namer({ headers: { authorization: 'Bearer a-long-operator-token' } })('device-1'), 'device-1');
    assert.equal(access.namer({ headers: {} })('device-1'), expected('device-1'));
  });
});
