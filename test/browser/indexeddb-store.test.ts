import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { ensureBundles, launchChromium, newDevicePage, serveAssets } from './helpers.js';

type Probe = (op: string, arg?: unknown) => Promise<unknown>;

// Runs inside the page: drives an IndexedDbStore from the built SDK bundle.
async function inPage(page: Page, op: string, arg?: unknown): Promise<unknown> {
  return page.evaluate(
    async ([op, arg]) => {
      const sdk = (await import('/assets/fedrec-client.js' as string)) as {
        openIndexedDbStore(o: { name: string }): Promise<{
          append(e: unknown): Promise<void>;
          list(o?: unknown): Promise<unknown[]>;
          count(): Promise<number>;
          get(k: string): Promise<unknown>;
          set(k: string, v: unknown): Promise<void>;
          delete(k: string): Promise<void>;
          clearEvents(): Promise<void>;
          close(): Promise<void>;
        }>;
      };
      const store = await sdk.openIndexedDbStore({ name: 'fedrec-test' });
      try {
        const describe = (v: unknown) => (v instanceof Float32Array ? { float32: Array.from(v) } : v);
        switch (op) {
          case 'write': {
            await store.append([
              { itemId: 7, kind: 'click', timestamp: 1000 },
              { itemId: 'sku-9', kind: 'rating', value: 5, timestamp: 2000 },
            ]);
            await store.append({ itemId: 3, kind: 'view', timestamp: 3000 });
            await store.set('fedrec:private:neumf/user_gmf', new Float32Array([0.5, -1.25, 3]));
            await store.set('profile', { name: 'x', tags: ['a', 'b'] });
            return null;
          }
          case 'read':
            return {
              count: await store.count(),
              events: await store.list(),
              recent: await store.list({ limit: 2 }),
              since: await store.list({ since: 2000 }),
              embedding: describe(await store.get('fedrec:private:neumf/user_gmf')),
              profile: await store.get('profile'),
              missing: (await store.get('nope')) === undefined,
            };
          case 'copy': {
            const v = (await store.get('fedrec:private:neumf/user_gmf')) as Float32Array;
            v[0] = 99; // mutating what get() returned must not change the store
            return describe(await store.get('fedrec:private:neumf/user_gmf'));
          }
          case 'invalid':
            try {
              await store.append({ itemId: 1, kind: 'teleport', timestamp: 1 });
              return 'accepted';
            } catch {
              return { count: await store.count() };
            }
          case 'clear':
            await store.clearEvents();
            await store.delete('profile');
            return {
              count: await store.count(),
              profile: (await store.get('profile')) === undefined,
              embedding: describe(await store.get('fedrec:private:neumf/user_gmf')),
            };
          default:
            throw new Error(`unknown op ${String(op)} ${String(arg)}`);
        }
      } finally {
        await store.close();
      }
    },
    [op, arg] as const,
  );
}

describe('IndexedDbStore in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serveAssets>> | undefined;
  let origin = '';

  before(async () => {
    await ensureBundles();
    // IndexedDB needs a real origin: serve the bundle and a blank page over loopback.
    server = await serveAssets();
    origin = server.origin;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('keeps events (in order, with since/limit) and a Float32Array embedding across a page reload', async () => {
    const page = await newDevicePage(browser!);
    const probe: Probe = (op, arg) => inPage(page, op, arg);
    await page.goto(origin);
    await probe('write');
    await page.reload();
    const read = (await probe('read')) as Record<string, unknown>;
    assert.equal(read['count'], 3);
    assert.deepEqual(read['events'], [
      { itemId: 7, kind: 'click', timestamp: 1000 },
      { itemId: 'sku-9', kind: 'rating', value: 5, timestamp: 2000 },
      { itemId: 3, kind: 'view', timestamp: 3000 },
    ]);
    assert.deepEqual(
      (read['recent'] as { timestamp: number }[]).map((e) => e.timestamp),
      [2000, 3000],
    );
    assert.deepEqual(
      (read['since'] as { timestamp: number }[]).map((e) => e.timestamp),
      [2000, 3000],
    );
    assert.deepEqual(read['embedding'], { float32: [0.5, -1.25, 3] });
    assert.deepEqual(read['profile'], { name: 'x', tags: ['a', 'b'] });
    assert.equal(read['missing'], true);

    // A fresh page (new JS realm, same origin) sees the same data.
    const other = await page.context().newPage();
    await other.goto(origin);
    assert.equal(((await inPage(other, 'read')) as { count: number }).count, 3);
    await other.close();

    assert.deepEqual(await probe('copy'), { float32: [0.5, -1.25, 3] });
    assert.deepEqual(await probe('invalid'), { count: 3 });
    assert.deepEqual(await probe('clear'), { count: 0, profile: true, embedding: { float32: [0.5, -1.25, 3] } });
    await page.close();
  });
});
