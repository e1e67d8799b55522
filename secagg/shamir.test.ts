import assert from 'node:assert/strict';
import { combine } from 'shamir-secret-sharing';
import { combineShares, splitSecret } from './index.js';

describe('secagg Shamir wrapper', () => {
  it('combines shares that arrive as Node Buffer views at odd offsets (as Socket.IO delivers them)', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 0xff);
    const shares = await splitSecret(secret, 5, 3);
    const packet = Buffer.alloc(7 + 40 * shares.length);
    const views = shares.map((s, i) => {
      const view = packet.subarray(7 + 40 * i, 7 + 40 * i + s.length);
      view.set(s);
      return view;
    });
    assert.deepEqual(await combineShares(views.slice(1, 4), 3), secret);
    await assert.rejects(combineShares(views.slice(0, 2), 3), /need 3 shares/);
  });

  it('reconstructs exactly what the audited package reconstructs, from any t of the shares (random secrets, t up to 128)', async () => {
    let seed = 12345;
    const rand = (n: number) => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
    for (const [m, t] of [
      [3, 2],
      [9, 5],
      [73, 26],
      [255, 128],
    ] as const) {
      for (let trial = 0; trial < 4; trial++) {
        const secret = Uint8Array.from({ length: 32 }, () => rand(256));
        const shares = await splitSecret(secret, m, t);
        // A random subset of t shares, in a random order.
        const pool = [...shares];
        const chosen = Array.from({ length: t }, () => pool.splice(rand(pool.length), 1)[0]!);
        const ours = await combineShares(chosen, t);
        assert.deepEqual(ours, secret);
        assert.deepEqual(ours, await combine(chosen));
      }
    }
  });

  it('refuses malformed share sets: duplicate or zero coordinates, mixed lengths', async () => {
    const shares = await splitSecret(new Uint8Array(32).fill(9), 4, 2);
    await assert.rejects(combineShares([shares[0]!, shares[0]!], 2), /duplicate share coordinates/);
    const zero = Uint8Array.from(shares[1]!);
    zero[32] = 0;
    await assert.rejects(combineShares([shares[0]!, zero], 2), /coordinate 0/);
    await assert.rejects(combineShares([shares[0]!, shares[1]!.subarray(1)], 2), /same length/);
  });
});
