import assert from 'node:assert/strict';
import { parseEventsCsv } from '@fedrec/examples/events-csv.js';
import { stableHash, syntheticHistoryFor } from '@fedrec/examples/synthetic-history.js';

describe('examples: a device’s events file and its synthetic stand-in', () => {
  it('parses itemId,kind[,value[,timestamp]] lines, skipping a header, blanks and comments', () => {
    const events = parseEventsCsv('itemId,kind,value,timestamp\n\n# mine\n3,click\nsku-9,rating,5,1700000000000\n', 'f.csv');
    assert.deepEqual(events, [
      { itemId: 3, kind: 'click' },
      { itemId: 'sku-9', kind: 'rating', value: 5, timestamp: 1_700_000_000_000 },
    ]);
  });

  it('refuses a bad line naming the source and the line', () => {
    assert.throws(() => parseEventsCsv('3,click\n4,liked\n', 'f.csv'), /^Error: f\.csv line 2: kind "liked" is not one of view, click, purchase, rating/);
    assert.throws(() => parseEventsCsv('3,rating,five\n', 'f.csv'), /f\.csv line 1: value "five" is not a number/);
  });

  it('gives different device ids different synthetic users, and the same id the same one', () => {
    const users = new Set(Array.from({ length: 20 }, (_, i) => syntheticHistoryFor(`client-${i}`).user));
    assert.ok(users.size >= 15, `20 ids -> ${users.size} users`);
    assert.deepEqual(syntheticHistoryFor('client-a'), syntheticHistoryFor('client-a'));
    assert.ok(syntheticHistoryFor('client-a').events.length >= 10);
    assert.equal(stableHash('abc'), stableHash('abc'));
  });
});
