import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import {
  agreeKey,
  combineShares,
  contributionLayout,
  encodeContribution,
  expandMask,
  expandMaskJob,
  generateKeyPair,
  openShares,
  uniformsFromWords,
  useQuantizeKernel,
  type MaskJob,
  type ShareJob,
} from '@fedrec/secagg';
import { MASK_WORKER_FILE } from '@fedrec/client-sdk/browser/web-worker-mask-expander.js';
import { ensureBundles, newDevicePage, serveAssets } from '../browser/helpers.js';
import { quantizeConfig, quantizeInput, quantizeManifest, quantizeWords } from './quantize-case.js';

/** What the browser runs: the PRG on a fixed seed, a whole in-memory round with a known sum, a contribution quantized. */
const ENTRY = `
import { contributionLayout, encodeContribution, expandMask, quantizeKernel, runInMemoryRound } from './secagg/index.ts';
import { parseSecAggConfig } from './protocol/index.ts';
import { quantizeConfig, quantizeInput, quantizeManifest, quantizeWords } from './test/secagg/quantize-case.ts';
globalThis.secaggProbe = async () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 1);
  const prg = Array.from(expandMask(seed, 70000).subarray(69990));
  const zeroSeed = Array.from(expandMask(new Uint8Array(32), 4));
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const inputs = new Map(ids.map((id, i) => [id, Uint32Array.from({ length: 10 }, (_, j) => (i + 1) * (j + 1))]));
  const { outcome } = await runInMemoryRound({ roundId: 1, config: parseSecAggConfig({ mode: 'secagg' }), inputs, dropBefore: { 'masked-input': ['c'] }, validate: true });
  const layout = contributionLayout(quantizeManifest);
  const words = quantizeWords(layout.vectorLength);
  const c = quantizeInput(layout.deltaLength, layout.rowWeightsLength);
  const config = quantizeConfig();
  const quantized = Array.from(encodeContribution(c, layout, config, { fill: (into) => into.set(words) }));
  const byDefault = encodeContribution(c, layout, config).length; // the page's crypto.getRandomValues as dither
  return { prg, zeroSeed, status: outcome.status, sum: outcome.status === 'completed' ? Array.from(outcome.sum) : [], quantizeKernel, quantized, byDefault };
};
`;

/**
 * What the page runs for the Web Worker: a mask job on the worker and on the page's thread, a refused key, dead
 * workers; a share job on the worker (its sealed pairs come back as plain arrays for Node to open).
 */
const WORKER_ENTRY = `
import { expandMaskJob } from './secagg/index.ts';
import { WebWorkerMaskExpander } from './client-sdk/browser/web-worker-mask-expander.ts';
const outcome = (p) => p.then((e) => ({ ok: e.mask.length }), (err) => ({ name: err.name, message: err.message }));
globalThis.shareWorkerProbe = async (workerUrl, wire) => {
  const bytes = (a) => Uint8Array.from(a);
  const job = { ...wire, cipherSecretKey: bytes(wire.cipherSecretKey), selfMaskSeed: bytes(wire.selfMaskSeed), maskSecretKey: bytes(wire.maskSecretKey),
    peers: wire.peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: bytes(p.cipherPublicKey) })) };
  const expander = new WebWorkerMaskExpander(workerUrl);
  const shared = await expander.runShareJob(job);
  const lowOrder = { ...job, peers: [...job.peers.slice(1), { clientId: 'zero', cipherPublicKey: new Uint8Array(32) }] };
  const refused = await expander.runShareJob(lowOrder).then(() => ({}), (err) => ({ name: err.name, message: err.message }));
  expander.close();
  const list = (a) => Array.from(a);
  return {
    encryptedShares: shared.encryptedShares.map((e) => ({ to: e.to, nonce: list(e.nonce), ciphertext: list(e.ciphertext) })),
    shareKeys: shared.shareKeys.map(list),
    ownShares: { seedShare: list(shared.ownShares.seedShare), keyShare: list(shared.ownShares.keyShare) },
    refused,
  };
};
globalThis.maskWorkerProbe = async (workerUrl, wire) => {
  const job = { ...wire, selfMaskSeed: Uint8Array.from(wire.selfMaskSeed), maskSecretKey: Uint8Array.from(wire.maskSecretKey),
    peers: wire.peers.map((p) => ({ clientId: p.clientId, maskPublicKey: Uint8Array.from(p.maskPublicKey) })) };
  const expander = new WebWorkerMaskExpander(workerUrl);
  const onWorker = await expander.expand(job);
  const here = expandMaskJob(job);
  const sameAsPage = onWorker.mask.length === here.mask.length && onWorker.mask.every((w, i) => w === here.mask[i])
    && onWorker.pairwiseSeeds.every((s, i) => s.every((b, j) => b === here.pairwiseSeeds[i][j]));
  const lowOrder = { ...job, peers: [...job.peers.slice(1), { clientId: 'zero', maskPublicKey: new Uint8Array(32) }] };
  const refused = await outcome(expander.expand(lowOrder));
  const afterRefusal = await outcome(expander.expand({ ...job, vectorLength: 500 }));
  // A worker file that is not there, and one that dies on its first job (a blob module that throws).
  const missing = await outcome(new WebWorkerMaskExpander(new URL('./no-such-worker.js', workerUrl)).expand(job));
  const dying = URL.createObjectURL(new Blob(['onmessage = () => { throw new Error("worker died"); };'], { type: 'text/javascript' }));
  const died = await outcome(new WebWorkerMaskExpander(dying).expand(job));
  expander.close();
  return { mask: Array.from(onWorker.mask), seeds: onWorker.pairwiseSeeds.map((s) => Array.from(s)), sameAsPage, refused, afterRefusal, missing, died };
};
`;

describe('secagg in a browser (esbuild bundle in headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser | null = null;
  let assets: { origin: string; close(): Promise<void> } | undefined;
  after(async () => {
    await browser?.close();
    await assets?.close();
  });

  it('bundles for the browser without Node built-ins and computes the same masks, sums and quantized contributions as Node', async () => {
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
      (
        globalThis as unknown as {
          secaggProbe: () => Promise<{
            prg: number[];
            zeroSeed: number[];
            status: string;
            sum: number[];
            quantizeKernel: boolean;
            quantized: number[];
            byDefault: number;
          }>;
        }
      ).secaggProbe(),
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
    // Chromium quantizes on the WebAssembly kernel and gets the bits of Node's JavaScript path for the same dither.
    assert.equal(result.quantizeKernel, true);
    const layout = contributionLayout(quantizeManifest);
    const c = quantizeInput(layout.deltaLength, layout.rowWeightsLength);
    useQuantizeKernel(false);
    try {
      assert.deepEqual(result.quantized, Array.from(encodeContribution(c, layout, quantizeConfig(), uniformsFromWords(quantizeWords(layout.vectorLength)))));
    } finally {
      useQuantizeKernel(true);
    }
    assert.equal(result.byDefault, layout.vectorLength);
  });

  it('expands a mask job and makes share keys in the shipped Web Worker exactly as the page and Node would; a refused key stays a RangeError, a dead worker fails its job', async () => {
    await ensureBundles();
    assets = await serveAssets();
    const job: MaskJob = {
      roundId: 3,
      clientId: 'client-004',
      vectorLength: 70_001, // past the 64 KiB keystream chunks
      selfMaskSeed: Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 2),
      maskSecretKey: generateKeyPair().secretKey,
      peers: Array.from({ length: 5 }, (_, i) => ({ clientId: `client-00${i}`, maskPublicKey: generateKeyPair().publicKey })),
    };
    const wire = {
      ...job,
      selfMaskSeed: [...job.selfMaskSeed],
      maskSecretKey: [...job.maskSecretKey],
      peers: job.peers.map((p) => ({ ...p, maskPublicKey: [...p.maskPublicKey] })),
    };
    const bundle = await build({
      stdin: { contents: WORKER_ENTRY, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--no-first-run'] });
    const page = await newDevicePage(browser);
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await page.goto(assets.origin); // the worker must be same-origin
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const workerUrl = `${assets.origin}/assets/${MASK_WORKER_FILE}`;
    type Outcome = { ok?: number; name?: string; message?: string };
    const result = await page.evaluate(
      ([url, w]) => (globalThis as unknown as { maskWorkerProbe: (u: string, w: unknown) => Promise<Record<string, unknown>> }).maskWorkerProbe(url, w),
      [workerUrl, wire] as const,
    );
    assert.ok(workers.includes(workerUrl), `workers started: ${workers.join(', ')}`);
    // The worker's words (pure-JS AES in Chromium) are the page's and Node's (node:crypto) for the same job.
    assert.equal(result['sameAsPage'], true);
    const here = expandMaskJob(job);
    assert.deepEqual(result['mask'], Array.from(here.mask));
    assert.deepEqual(
      result['seeds'],
      here.pairwiseSeeds.map((s) => Array.from(s)),
    );
    // A low-order key: a RangeError (SecAggClient's BAD_ROSTER), and the worker goes on serving.
    const refused = result['refused'] as Outcome;
    assert.equal(refused.name, 'RangeError');
    assert.match(refused.message!, /low-order/);
    assert.deepEqual(result['afterRefusal'], { ok: 500 });
    // Dead workers: a plain Error (not a RangeError), which aborts the device's round as INTERNAL.
    for (const key of ['missing', 'died']) {
      const dead = result[key] as Outcome;
      assert.equal(dead.name, 'Error', `${key}: ${JSON.stringify(dead)}`);
      assert.match(dead.message!, /^mask worker failed/);
    }
    assert.match((result['died'] as Outcome).message!, /worker died/);
    // The shipped SDK bundle finds the worker next to itself (createBrowserClient's default) and expands there too.
    const shipped = await page.evaluate(async (w) => {
      const sdk = await import('/assets/fedrec-client.js' as string);
      const job = {
        ...w,
        selfMaskSeed: Uint8Array.from(w.selfMaskSeed),
        maskSecretKey: Uint8Array.from(w.maskSecretKey),
        peers: w.peers.map((p) => ({ ...p, maskPublicKey: Uint8Array.from(p.maskPublicKey) })),
      };
      const expander = new sdk.WebWorkerMaskExpander(sdk.defaultMaskWorkerUrl());
      const { mask } = await expander.expand(job);
      expander.close();
      return { url: sdk.defaultMaskWorkerUrl() as string, mask: Array.from(mask as Uint32Array) };
    }, wire);
    assert.equal(shipped.url, workerUrl);
    assert.deepEqual(shipped.mask, Array.from(here.mask));

    // A share job in the same worker: its neighbours open their pairs (keys agreed from their side, in Node), and any
    // threshold of the shares rebuilds both secrets; a refused key stays a RangeError.
    const cipher = generateKeyPair();
    const peers = Array.from({ length: 5 }, (_, i) => ({ clientId: `client-01${i}`, keys: generateKeyPair() }));
    const shareJob: ShareJob = {
      roundId: 3,
      clientId: 'client-004',
      cipherSecretKey: cipher.secretKey,
      selfMaskSeed: job.selfMaskSeed,
      maskSecretKey: job.maskSecretKey,
      threshold: 3,
      peers: peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: p.keys.publicKey })),
    };
    const shareWire = {
      ...shareJob,
      cipherSecretKey: [...shareJob.cipherSecretKey],
      selfMaskSeed: [...shareJob.selfMaskSeed],
      maskSecretKey: [...shareJob.maskSecretKey],
      peers: shareJob.peers.map((p) => ({ ...p, cipherPublicKey: [...p.cipherPublicKey] })),
    };
    type WireShares = {
      encryptedShares: Array<{ to: string; nonce: number[]; ciphertext: number[] }>;
      shareKeys: number[][];
      ownShares: Record<'seedShare' | 'keyShare', number[]>;
      refused: Outcome;
    };
    const shared = await page.evaluate(
      ([url, w]) => (globalThis as unknown as { shareWorkerProbe: (u: string, w: unknown) => Promise<WireShares> }).shareWorkerProbe(url, w),
      [workerUrl, shareWire] as const,
    );
    const opened = peers.map((p, i) => {
      const key = agreeKey('share-encryption', 3, p.clientId, 'client-004', p.keys.secretKey, cipher.publicKey);
      assert.deepEqual(shared.shareKeys[i], Array.from(key));
      const { to, nonce, ciphertext } = shared.encryptedShares[i]!;
      assert.equal(to, p.clientId);
      const pair = openShares(key, { roundId: 3, from: 'client-004', to }, Uint8Array.from(nonce), Uint8Array.from(ciphertext));
      assert.ok(pair, `${p.clientId} opens its pair`);
      return pair;
    });
    const own = { seedShare: Uint8Array.from(shared.ownShares.seedShare), keyShare: Uint8Array.from(shared.ownShares.keyShare) };
    assert.deepEqual(
      await combineShares(
        [own, opened[1]!, opened[4]!].map((p) => p.seedShare),
        3,
      ),
      shareJob.selfMaskSeed,
    );
    assert.deepEqual(
      await combineShares(
        opened.slice(2, 5).map((p) => p.keyShare),
        3,
      ),
      shareJob.maskSecretKey,
    );
    assert.equal(shared.refused.name, 'RangeError');
    assert.match(shared.refused.message!, /low-order/);
  });
});
