import assert from 'node:assert/strict';
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
});
