import assert from 'node:assert/strict';
import { parseDelimitedInteractions, detectDelimiter } from './delimited.js';
import { parseMovieLens } from './movielens.js';
import { MOVIELENS_GENRES, parseMovieLensItems } from './movielens-items.js';
import { generateSyntheticInteractions } from './synthetic.js';
import { formatLoadSummary } from './types.js';

describe('recsys loaders', () => {
  it('parses MovieLens lines, skipping malformed ones and keeping the latest of a duplicate pair', () => {
    const text = [
      '196\t242\t3\t881250949',
      '186\t302\t3\t891717742',
      'garbage line',
      '196\t242\t5\t881250999',
      '22\t377\t1',
      '',
      '22\t302\t4\t878887116',
      '7\tx\tnope\t1',
    ].join('\n');
    const d = parseMovieLens(text);
    assert.deepEqual(d.summary, { lines: 7, kept: 3, malformed: 3, duplicates: 1, users: 3, items: 2 });
    // Dense ids follow numeric order of the source ids.
    assert.deepEqual(d.userIds, ['22', '186', '196']);
    assert.deepEqual(d.itemIds, ['242', '302']);
    const row = [...d.users].findIndex((u, r) => d.userIds[u] === '196' && d.itemIds[d.items[r]!] === '242');
    assert.equal(d.ratings[row], 5, 'the later duplicate wins');
    assert.equal(d.timestamps[row], 881250999);
    assert.match(formatLoadSummary(d.summary), /3 interactions kept from 7 lines \(3 malformed, 1 duplicates skipped\); 3 users, 2 items/);
  });

  it('detects a CSV header, maps columns by name and defaults missing ratings and timestamps', () => {
    const text = 'timestamp,itemId,userId\n100,book-a,alice\n200,book-b,alice\n150,book-a,bob\n,book-c,bob\nbad-time,book-c,carol\n';
    const d = parseDelimitedInteractions(text);
    assert.deepEqual(d.summary, { lines: 5, kept: 4, malformed: 1, duplicates: 0, users: 2, items: 3 });
    assert.deepEqual(d.userIds, ['alice', 'bob']);
    assert.ok(
      [...d.ratings].every((r) => r === 1),
      'implicit feedback: rating defaults to 1',
    );
    const bobC = [...d.items].findIndex((i, r) => d.itemIds[i] === 'book-c' && d.userIds[d.users[r]!] === 'bob');
    assert.equal(d.timestamps[bobC], 3, 'a row without timestamp gets its line order');
  });

  it('detects tab, semicolon and double-colon delimiters and reads headerless two-column files', () => {
    assert.equal(detectDelimiter(['1\t2\t3', '4\t5\t6']), '\t');
    assert.equal(detectDelimiter(['1;2', '3;4']), ';');
    assert.equal(detectDelimiter(['1::2::5::978300760', '1::3::4::978300761']), '::');
    const d = parseDelimitedInteractions('u1 i1\nu1 i2\nu2 i1\nu2 i1\n');
    assert.deepEqual(d.summary, { lines: 4, kept: 3, malformed: 0, duplicates: 1, users: 2, items: 2 });
  });

  it('generates reproducible synthetic behaviour with a long tail', () => {
    const a = generateSyntheticInteractions({ users: 50, items: 80, interactionsPerUser: 12, seed: 3 });
    const b = generateSyntheticInteractions({ users: 50, items: 80, interactionsPerUser: 12, seed: 3 });
    const c = generateSyntheticInteractions({ users: 50, items: 80, interactionsPerUser: 12, seed: 4 });
    assert.deepEqual(a.items, b.items);
    assert.notDeepEqual(a.items, c.items);
    const pairs = new Set([...a.users].map((u, r) => `${u}:${a.items[r]}`));
    assert.equal(pairs.size, a.users.length, 'no duplicate pairs');
    const counts = new Array<number>(80).fill(0);
    for (const i of a.items) counts[i]!++;
    counts.sort((x, y) => y - x);
    const top = counts.slice(0, 8).reduce((s, x) => s + x, 0);
    assert.ok(top > 0.2 * a.items.length, `top 10% of items hold ${top}/${a.items.length} interactions`);
  });
});

describe('parseMovieLensItems (u.item)', () => {
  it('reads titles and the 19 genre flags by item id, and skips broken lines', () => {
    const flags = (...on: number[]) => Array.from({ length: MOVIELENS_GENRES.length }, (_, g) => (on.includes(g) ? '1' : '0')).join('|');
    const text = [
      `1|Toy Story (1995)|01-Jan-1995||http://x|${flags(3, 4, 5)}`,
      `50|Star Wars (1977)|01-Jan-1977||http://y|${flags(1, 2, 14, 15, 17)}`,
      '7|too short',
      '',
    ].join('\n');
    const items = parseMovieLensItems(text);
    assert.deepEqual([...items.keys()], ['1', '50']);
    assert.deepEqual(items.get('1'), { title: 'Toy Story (1995)', genres: ['Animation', "Children's", 'Comedy'] });
    assert.deepEqual(items.get('50')!.genres, ['Action', 'Adventure', 'Romance', 'Sci-Fi', 'War']);
  });
});
