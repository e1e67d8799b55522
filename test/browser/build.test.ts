import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBrowserSafe, buildBrowser } from '../../scripts/build-browser.js';
import { ensureBundles } from './helpers.js';

describe('browser bundles (scripts/build-browser.ts)', function () {
  this.timeout(60_000);
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fedrec-bundle-'));
  });
  after(async () => rm(scratch, { recursive: true, force: true }));

  it('builds the client SDK, dashboard and demo bundles plus the wasm files', async () => {
    const files = (await ensureBundles()) as { file: string; bytes: number }[];
    const names = files.map((f) => f.file.split('/').slice(-2).join('/'));
    for (const expected of [
      'browser/fedrec-client.js',
      'browser/fedrec-mask-worker.js',
      'browser/dashboard.js',
      'browser/demo.js',
      'browser/dashboard.css',
      'wasm/tfjs-backend-wasm.wasm',
      'wasm/tfjs-backend-wasm-simd.wasm',
    ]) {
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
    }
    for (const f of files) assert.ok(f.bytes > 0, `${f.file} is empty`);
  });

  it('fails when Node-only code would reach a browser bundle', async () => {
    // The Node client entry imports node:fs (file store): platform=browser cannot resolve it.
    await assert.rejects(buildBrowser({ outDir: scratch, entries: ['client-sdk/node/index.ts'] }), /node:|Could not resolve|Node-only/);
    // Server code that esbuild could bundle is caught by the input check.
    assert.throws(
      () => assertBrowserSafe({ inputs: { 'coordinator/rest.ts': { bytes: 1, imports: [] }, 'protocol/index.ts': { bytes: 1, imports: [] } }, outputs: {} }),
      /coordinator\/rest\.ts/,
    );
    assert.doesNotThrow(() =>
      assertBrowserSafe({ inputs: { 'protocol/index.ts': { bytes: 1, imports: [] }, 'dashboard/types.ts': { bytes: 1, imports: [] } }, outputs: {} }),
    );
  });
});
