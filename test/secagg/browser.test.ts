import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { expandMask } from '@fedrec/secagg';

/** What the browser runs: the PRG on a fixed seed and a whole in-memory round with a known sum. */
const ENTRY = `
import { expandMask, runInMemoryRound } from './secagg/index.ts';
import { parseSecAggConfig } from './protocol/index.ts';
globalThis.secaggProbe = async () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 1);
  const prg = Array.from(expandMask(seed, 70000).subarray(69990));
  const zeroSeed = Array.from(expandMask(new Uint8Array(32), 4));
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const inputs = new Map(ids.map((id, i) => [id, Uint32Array.from({ length: 10 }, (_, j) => (i + 1) * (j + 1))]));
  const { outcome } = await runInMemoryRound({ roundId: 1, config: parseSecAggConfig({ mode: 'secagg' }), inputs, dropBefore: { 'masked-input': ['c'] }, validate: true });
  return { prg, zeroSeed, status: outcome.status, sum: outcome.status === 'completed' ? Array.from(outcome.sum) : [] };
};
`;

describe('secagg in a browser (esbuild bundle in headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser | null = null;
  after(async () => browser?.close());

  it('bundles for the browser without Node built-ins and computes the same masks and sums as Node', async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const code = bundle.outputFiles[0]!.text;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await browser.newPage();
    await page.addScriptTag({ content: code });
    const result = await page.evaluate(() =>
      (globalThis as unknown as { secaggProbe: () => Promise<{ prg: number[]; zeroSeed: number[]; status: string; sum: number[] }> }).secaggProbe(),
    );
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 1);
    // Chromium expands with @noble/ciphers' AES-CTR, Node with node:crypto: the same words, past the 64 KiB chunks.
    assert.deepEqual(result.prg, Array.from(expandMask(seed, 70000).subarray(69990)));
    // Known answer shared with secagg/prg.test.ts: AES-256(zero key, zero block) as little-endian words.
    assert.deepEqual(result.zeroSeed, [0x78c095dc, 0x898940a2, 0x14a248ad, 0x87208492]);
    assert.equal(result.status, 'completed');
    // Clients a, b, d, e (c dropped): Σ (i+1)(j+1) over i ∈ {0,1,3,4}.
    assert.deepEqual(
      result.sum,
      Array.from({ length: 10 }, (_, j) => (1 + 2 + 4 + 5) * (j + 1)),
    );
  });
});
