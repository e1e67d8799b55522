import assert from 'node:assert/strict';
import { SHARE_LENGTH } from '@fedrec/protocol/secagg-sizes.js';
import { SharePile } from './share-pile.js';

const share = (fill: number) => new Uint8Array(SHARE_LENGTH).fill(fill);

describe('SharePile: revealed shares side by side in one buffer', () => {
  it('returns copies of the shares in arrival order, past its initial capacity', () => {
    const pile = new SharePile(2);
    const sources = [1, 2, 3, 4, 5].map(share);
    for (const s of sources) pile.add(s);
    sources[0]!.fill(9); // a copy: the received packet may be reused or let go
    assert.equal(pile.count, 5);
    assert.deepEqual(
      pile.shares().map((s) => [...s]),
      [1, 2, 3, 4, 5].map((x) => [...share(x)]),
    );
  });

  it('refuses a share of another length and keeps what it had', () => {
    const pile = new SharePile(3);
    pile.add(share(1));
    assert.throws(() => pile.add(new Uint8Array(SHARE_LENGTH - 1)), RangeError);
    assert.equal(pile.count, 1);
    assert.deepEqual([...pile.shares()[0]!], [...share(1)]);
  });
});
