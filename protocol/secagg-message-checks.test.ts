import assert from 'node:assert/strict';
import { checkShareKeys, checkUnmaskResponse, MessageCheckError, packedChecked } from './secagg-message-checks.js';
import { shareKeysSchema, unmaskResponseSchema } from './secagg-messages.js';
import { pack } from './packed.js';
import { packedSchema } from './packed.js';
import { MAX_SHARES, SHARE_CIPHERTEXT_LENGTH, SHARE_LENGTH, SHARE_NONCE_LENGTH } from './secagg-sizes.js';

const shareEntry = (i: number) => ({
  to: `client-${i}`,
  nonce: new Uint8Array(SHARE_NONCE_LENGTH).fill(i),
  ciphertext: new Uint8Array(SHARE_CIPHERTEXT_LENGTH).fill(i),
});
const shareKeys = () => ({ roundId: 3, encryptedShares: [0, 1, 2].map(shareEntry) });
const revealedEntry = (i: number) => ({ of: `client-${i}`, share: new Uint8Array(SHARE_LENGTH).fill(i) });
const unmask = () => ({ roundId: 3, seedShares: [0, 1].map(revealedEntry), keyShares: [revealedEntry(5), revealedEntry(6)], correction: new Uint8Array(8) });

/** Every way a hostile client could bend the message: each must be refused by both parsers or accepted by both. */
function mutations(base: () => Record<string, unknown>, listKey: string, fields: Record<string, unknown[]>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'hello'],
    ['an array', []],
    ['a number', 7],
  ];
  for (const roundId of [-1, 1.5, '3', null, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) out.push([`roundId ${String(roundId)}`, { ...base(), roundId }]);
  const noRound = base();
  delete noRound.roundId;
  out.push(['no roundId', noRound]);
  for (const bad of [undefined, null, {}, 'x', [null], [1], [[]]]) out.push([`${listKey} = ${JSON.stringify(bad)}`, { ...base(), [listKey]: bad }]);
  for (const [field, values] of Object.entries(fields)) {
    for (const value of values) {
      const m = base();
      const list = (m[listKey] as Array<Record<string, unknown>>).map((e) => ({ ...e }));
      list[1]![field] = value;
      out.push([`${field} = ${value instanceof Uint8Array ? `${value.length} bytes` : String(value)}`, { ...m, [listKey]: list }]);
      const missing = base();
      const without = (missing[listKey] as Array<Record<string, unknown>>).map((e) => ({ ...e }));
      delete without[0]![field];
      out.push([`no ${field}`, { ...missing, [listKey]: without }]);
    }
  }
  out.push(['extra keys', { ...base(), extra: 1 }]);
  return out;
}

const ids = ['', 'a'.repeat(129), 'a b', 'ü', 'client/1', 7, null, 'a'.repeat(128), 'ok-id_1.2:3'];
const wrongBytes = (n: number) => [
  new Uint8Array(n - 1),
  new Uint8Array(n + 1),
  new Uint8Array(n).buffer,
  Buffer.alloc(n),
  'bytes',
  [1, 2],
  new Uint16Array(n / 2 || 1),
  null,
];

function sameVerdicts(
  name: string,
  hand: (v: unknown) => unknown,
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
  cases: Array<[string, unknown]>,
): void {
  for (const [label, value] of cases) {
    const z = schema.safeParse(value);
    let handValue: unknown;
    let handError: unknown;
    try {
      handValue = hand(value);
    } catch (err) {
      handError = err;
    }
    assert.equal(
      handError === undefined,
      z.success,
      `${name}, ${label}: zod ${z.success ? 'accepts' : 'refuses'}, the hand check ${handError ? `refuses (${String(handError)})` : 'accepts'}`,
    );
    if (handError !== undefined) assert.ok(handError instanceof MessageCheckError, `${name}, ${label}: refused with ${String(handError)}`);
    else assert.deepEqual(handValue, z.data, `${name}, ${label}: same parsed value`);
  }
}

describe('protocol: hand-checked secagg stage replies (same verdicts as the zod schemas)', () => {
  it('ShareKeys: valid messages parse to the same value; every hostile variant is refused by both', () => {
    const cases = mutations(shareKeys, 'encryptedShares', { to: ids, nonce: wrongBytes(SHARE_NONCE_LENGTH), ciphertext: wrongBytes(SHARE_CIPHERTEXT_LENGTH) });
    cases.push(['valid', shareKeys()], ['no shares', { roundId: 0, encryptedShares: [] }]);
    cases.push(['254 shares', { roundId: 1, encryptedShares: Array.from({ length: MAX_SHARES - 1 }, (_, i) => shareEntry(i)) }]);
    cases.push(['255 shares', { roundId: 1, encryptedShares: Array.from({ length: MAX_SHARES }, (_, i) => shareEntry(i)) }]);
    sameVerdicts('ShareKeys', checkShareKeys, shareKeysSchema, cases);
    assert.ok(cases.length > 40);
  });

  it('UnmaskResponse: the same, for seed shares, key shares and the optional correction', () => {
    const cases = [
      ...mutations(unmask, 'seedShares', { of: ids, share: wrongBytes(SHARE_LENGTH) }),
      ...mutations(unmask, 'keyShares', { of: ids.slice(0, 3), share: wrongBytes(SHARE_LENGTH).slice(0, 3) }),
    ];
    const withCorrection = (correction: unknown) => ({ ...unmask(), correction });
    for (const c of [new Uint8Array(0), new Uint8Array(6), new Uint8Array(12).buffer, Buffer.alloc(4), null, 'x', [0, 0, 0, 0]]) {
      cases.push([`correction ${c === null ? 'null' : ((c as { length?: number }).length ?? 'buffer')}`, withCorrection(c)]);
    }
    const { correction: _, ...noCorrection } = unmask();
    cases.push(['valid', unmask()], ['no correction', noCorrection], ['correction undefined', withCorrection(undefined)]);
    cases.push(['256 seed shares', { roundId: 1, seedShares: Array.from({ length: MAX_SHARES + 1 }, (_, i) => revealedEntry(i)), keyShares: [] }]);
    sameVerdicts('UnmaskResponse', checkUnmaskResponse, unmaskResponseSchema, cases);
  });

  it('packedChecked refuses what packedSchema refuses, from the packed envelope on', () => {
    const packed = pack(shareKeys());
    const cases: Array<[string, unknown]> = [
      ['valid', packed],
      ['no blob', { json: packed.json }],
      ['blob not binary', { json: packed.json, blob: 'x' }],
      ['reference outside the blob', { json: packed.json, blob: new Uint8Array(3) }],
      ['hostile inner', pack({ roundId: -1, encryptedShares: [] })],
    ];
    const hand = packedChecked(checkShareKeys);
    const zod = packedSchema(shareKeysSchema);
    for (const [label, value] of cases) {
      const a = hand.safeParse(value);
      const b = zod.safeParse(value);
      assert.equal(a.success, b.success, label);
      if (a.success) assert.deepEqual(a.data, b.data, label);
    }
  });
});
