import assert from 'node:assert/strict';
import { parseStalenessPolicy, stalenessPolicySchema, stalenessWeight } from './staleness.js';

describe('buffered: staleness weights', () => {
  it('constant counts every update fully', () => {
    const p = parseStalenessPolicy('constant');
    assert.deepEqual(
      [0, 1, 7].map((s) => stalenessWeight(p, s)),
      [1, 1, 1],
    );
  });

  it('polynomial is (1 + s)^-a: FedBuff 1/sqrt(1+s) by default', () => {
    const p = stalenessPolicySchema.parse({});
    assert.equal(stalenessWeight(p, 0), 1);
    assert.equal(stalenessWeight(p, 3), 0.5); // 1/sqrt(4)
    assert.equal(stalenessWeight(p, 8), 1 / 3); // 1/sqrt(9)
    const cubic = parseStalenessPolicy('polynomial:1');
    assert.equal(stalenessWeight(cubic, 4), 0.2); // 1/5
  });

  it('hinge is 1 up to `after`, then 1/(slope (s - after) + 1)', () => {
    const p = parseStalenessPolicy('hinge:2:0.5');
    assert.deepEqual(
      [0, 1, 2].map((s) => stalenessWeight(p, s)),
      [1, 1, 1],
    );
    assert.equal(stalenessWeight(p, 4), 0.5); // 1/(0.5·2 + 1)
    assert.equal(stalenessWeight(p, 8), 0.25); // 1/(0.5·6 + 1)
  });

  it('refuses malformed policies and staleness values', () => {
    assert.throws(() => parseStalenessPolicy('linear'), /expected constant/);
    assert.throws(() => parseStalenessPolicy('polynomial:x'), /must be numbers/);
    assert.throws(() => parseStalenessPolicy('polynomial:-1'));
    assert.throws(() => stalenessWeight(parseStalenessPolicy('constant'), -1), RangeError);
  });
});
