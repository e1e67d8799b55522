import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ensureBundles, launchChromium, newDevicePage, serveAssets } from './helpers.js';

type Sdk = {
  selectBackend(o?: { force?: string; wasmPaths?: string }): Promise<string>;
  resetBackendSelection(): void;
  defaultWasmPaths(): string | undefined;
};

describe('tfjs backend selection in Chromium (built SDK bundle)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serveAssets>> | undefined;
  before(async () => {
    await ensureBundles();
    server = await serveAssets();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('picks WebGL first, and loads the wasm backend from the page’s own origin when asked', async () => {
    const page = await newDevicePage(browser!);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(server!.origin);
    const result = await page.evaluate(async () => {
      const sdk = (await import('/assets/fedrec-client.js' as string)) as Sdk;
      const auto = await sdk.selectBackend();
      sdk.resetBackendSelection();
      const wasm = await sdk.selectBackend({ force: 'wasm' });
      return { auto, wasm, wasmPaths: sdk.defaultWasmPaths() };
    });
    assert.equal(result.auto, 'webgl');
    assert.equal(result.wasm, 'wasm');
    assert.equal(result.wasmPaths, `${server!.origin}/assets/wasm/`);
    assert.ok(
      requested.some((u) => u.endsWith('.wasm')),
      'a .wasm file was fetched',
    );
    for (const u of requested) assert.ok(u.startsWith(server!.origin), `${u} is not from the page's origin`);
  });
});
