import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  agreeKey,
  combineShares,
  contributionLayout,
  encodeContribution,
  expandMask,
  expandMaskJob,
  generateKeyPair,
  openShares,
  runCorrectionJob,
  uniformsFromWords,
  useQuantizeKernel,
  type CorrectionJob,
  type MaskJob,
  type SharePair,
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
 * workers; a share job on the worker (its sealed pairs come back as plain arrays for Node to open); both jobs on
 * the shipped worker observed (observedWorker) for the X25519 path they take; and unmask corrections on the worker, in
 * a round with a dropout run in the page.
 */
const WORKER_ENTRY = `
import { expandMaskJob, runCorrectionJob, SecAggClient, SecAggServer } from './secagg/index.ts';
import { parseSecAggConfig } from './protocol/index.ts';
import { WebWorkerMaskExpander } from './client-sdk/browser/web-worker-mask-expander.ts';
const outcome = (p) => p.then((e) => ({ ok: e.mask.length }), (err) => ({ name: err.name, message: err.message }));
const refusal = (p) => p.then(() => ({}), (err) => ({ name: err.name, reason: err.reason, message: err.message }));
const bytes = (a) => Uint8Array.from(a);
const list = (a) => Array.from(a);
const maskJobOf = (wire) => ({ ...wire, selfMaskSeed: bytes(wire.selfMaskSeed), maskSecretKey: bytes(wire.maskSecretKey),
  peers: wire.peers.map((p) => ({ clientId: p.clientId, maskPublicKey: bytes(p.maskPublicKey) })) });
const shareJobOf = (wire) => ({ ...wire, cipherSecretKey: bytes(wire.cipherSecretKey), selfMaskSeed: bytes(wire.selfMaskSeed), maskSecretKey: bytes(wire.maskSecretKey),
  peers: wire.peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: bytes(p.cipherPublicKey) })) });
const sharesOnWire = (shared) => ({
  encryptedShares: shared.encryptedShares.map((e) => ({ to: e.to, nonce: list(e.nonce), ciphertext: list(e.ciphertext) })),
  shareKeys: shared.shareKeys.map(list),
  ownShares: { seedShare: list(shared.ownShares.seedShare), keyShare: list(shared.ownShares.keyShare) },
});
globalThis.shareWorkerProbe = async (workerUrl, wire) => {
  const job = shareJobOf(wire);
  const expander = new WebWorkerMaskExpander(workerUrl);
  const shared = await expander.runShareJob(job);
  const lowOrder = { ...job, peers: [...job.peers.slice(1), { clientId: 'zero', cipherPublicKey: new Uint8Array(32) }] };
  const refused = await refusal(expander.runShareJob(lowOrder));
  expander.close();
  return { ...sharesOnWire(shared), refused };
};
globalThis.maskWorkerProbe = async (workerUrl, wire) => {
  const job = maskJobOf(wire);
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
// A module URL for the shipped worker with a prelude module evaluated before it (the observers below).
const behindPrelude = (workerUrl, prelude) => {
  const moduleUrl = (code) => URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  return moduleUrl('import "' + moduleUrl(prelude) + '"; import "' + workerUrl + '";');
};
// The shipped worker behind a prelude module (evaluated first) that counts the worker's WebCrypto X25519 derivations,
// each reply carrying the count so far, and with hideX25519 makes WebCrypto refuse X25519 as a browser without it does.
const observedWorker = (workerUrl, hideX25519) => {
  const prelude = [
    'const derive = SubtleCrypto.prototype.deriveBits, importKey = SubtleCrypto.prototype.importKey;',
    'let derived = 0;',
    'SubtleCrypto.prototype.deriveBits = function (algorithm, ...rest) { if (algorithm.name === "X25519") derived++; return derive.call(this, algorithm, ...rest); };',
    hideX25519 ? 'SubtleCrypto.prototype.importKey = function (format, data, algorithm, ...rest) { return (algorithm.name ?? algorithm) === "X25519" ? Promise.reject(new DOMException("Unrecognized name", "NotSupportedError")) : importKey.call(this, format, data, algorithm, ...rest); };' : '',
    'const post = self.postMessage.bind(self);',
    'self.postMessage = (reply, transfer) => post(reply.ok ? { ...reply, result: { ...reply.result, x25519Derivations: derived } } : reply, transfer);',
  ].join(' ');
  return behindPrelude(workerUrl, prelude);
};
// A low-order neighbour key in a real roster, the share job on the worker: SecAggClient refuses the roster.
const rosterRefusal = (expander) => {
  const config = parseSecAggConfig({ mode: 'secagg+' });
  const ids = Array.from({ length: 10 }, (_, i) => 'client-' + String(i).padStart(3, '0'));
  const server = new SecAggServer({ roundId: 1, config, vectorLength: 8 });
  const clients = ids.map((id) => new SecAggClient({ clientId: id, roundId: 1, config, vectorLength: 8 }));
  clients.forEach((c, i) => server.acceptAdvertisement(ids[i], c.advertiseKeys()));
  const roster = server.closeAdvertisement().messages.get(ids[0]);
  const lowOrder = { ...roster, neighbours: roster.neighbours.map((n, i) => (i === 0 ? { ...n, cipherPublicKey: new Uint8Array(32) } : n)) };
  return refusal(clients[0].shareKeysWith(lowOrder, expander.runShareJob));
};
// The shipped worker behind a prelude that counts its WebCrypto AES-CTR encryptions, each reply carrying the count.
const aesCountingWorker = (workerUrl) => {
  const prelude = [
    'const encrypt = SubtleCrypto.prototype.encrypt; let encrypts = 0;',
    'SubtleCrypto.prototype.encrypt = function (algorithm, ...rest) { if (algorithm.name === "AES-CTR") encrypts++; return encrypt.call(this, algorithm, ...rest); };',
    'const post = self.postMessage.bind(self);',
    'self.postMessage = (reply, transfer) => post({ ...reply, aesCtrEncrypts: encrypts }, transfer);',
  ].join(' ');
  return behindPrelude(workerUrl, prelude);
};
// A secagg round of 5 clients in the page at 70,001 words, 'e' gone after sharing keys: a and b answer the unmask
// request on the page (unmask), c and d through the worker (unmaskWith); the sum must be exactly a + b + c + d.
const roundWithDropout = async (expander) => {
  const config = parseSecAggConfig({ mode: 'secagg' });
  const vectorLength = 70001;
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const server = new SecAggServer({ roundId: 1, config, vectorLength });
  const clients = new Map(ids.map((id) => [id, new SecAggClient({ clientId: id, roundId: 1, config, vectorLength })]));
  for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
  for (const [id, roster] of server.closeAdvertisement().messages) server.acceptShareKeys(id, await clients.get(id).shareKeys(roster));
  const input = (i) => Uint32Array.from({ length: vectorLength }, (_, j) => (i + 1) * (j + 1));
  for (const [id, shares] of server.closeShareKeys().messages) {
    if (id === 'e') continue;
    clients.get(id).receiveShares(shares);
    server.acceptMaskedInput(id, clients.get(id).maskInput(input(ids.indexOf(id))));
  }
  const jobs = [];
  const correct = (job) => (jobs.push(job.masks.length), expander.correct(job));
  for (const [id, request] of server.closeMaskedInput().messages) {
    const client = clients.get(id);
    server.acceptUnmaskResponse(id, id === 'a' || id === 'b' ? client.unmask(request) : await client.unmaskWith(request, correct));
  }
  const outcome = await server.finish();
  const exact = outcome.status === 'completed' && outcome.sum.every((w, j) => w === ((1 + 2 + 3 + 4) * (j + 1)) >>> 0);
  return { status: outcome.status, exact, jobs };
};
globalThis.correctionWorkerProbe = async (workerUrl, wire) => {
  const job = { vectorLength: wire.vectorLength, masks: wire.masks.map((m) => ({ seed: bytes(m.seed), sign: m.sign })) };
  const expander = new WebWorkerMaskExpander(workerUrl);
  const onWorker = await expander.correct(job);
  const here = runCorrectionJob(job);
  const sameAsPage = onWorker.length === here.length && onWorker.every((b, i) => b === here[i]);
  const round = await roundWithDropout(expander);
  expander.close();
  // The same job posted to the shipped worker behind the counting prelude: its keystreams are WebCrypto's.
  const worker = new Worker(aesCountingWorker(workerUrl), { type: 'module' });
  const reply = await new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage({ id: 1, kind: 'correction', job });
  });
  worker.terminate();
  return { correction: list(onWorker), sameAsPage, round, aesCtrEncrypts: reply.aesCtrEncrypts };
};
globalThis.x25519WorkerProbe = async (workerUrl, maskWire, shareWire, hideX25519) => {
  const expander = new WebWorkerMaskExpander(observedWorker(workerUrl, hideX25519));
  const masked = await expander.expand(maskJobOf(maskWire));
  const shared = await expander.runShareJob(shareJobOf(shareWire));
  const lowOrder = maskJobOf({ ...maskWire, peers: [...maskWire.peers, { clientId: 'zero', maskPublicKey: new Array(32).fill(0) }] });
  const refusedMask = await refusal(expander.expand(lowOrder));
  const refusedRoster = await rosterRefusal(expander);
  expander.close();
  return { mask: list(masked.mask), seeds: masked.pairwiseSeeds.map(list), maskDerivations: masked.x25519Derivations, shares: sharesOnWire(shared),
    shareDerivations: shared.x25519Derivations, refusedMask, refusedRoster };
};
`;

type Outcome = { ok?: number; name?: string; reason?: string; message?: string };
type WireShares = {
  encryptedShares: Array<{ to: string; nonce: number[]; ciphertext: number[] }>;
  shareKeys: number[][];
  ownShares: Record<'seedShare' | 'keyShare', number[]>;
};
const onWire = (bytes: Uint8Array) => [...bytes];

/** One device's mask job and share job (5 neighbours each), as posted to the page, and the neighbours' keys. */
function workerJobs() {
  const maskJob: MaskJob = {
    roundId: 3,
    clientId: 'client-004',
    vectorLength: 70_001, // past the 64 KiB keystream chunks
    selfMaskSeed: Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 2),
    maskSecretKey: generateKeyPair().secretKey,
    peers: Array.from({ length: 5 }, (_, i) => ({ clientId: `client-00${i}`, maskPublicKey: generateKeyPair().publicKey })),
  };
  const cipher = generateKeyPair();
  const peers = Array.from({ length: 5 }, (_, i) => ({ clientId: `client-01${i}`, keys: generateKeyPair() }));
  const shareJob: ShareJob = {
    roundId: 3,
    clientId: 'client-004',
    cipherSecretKey: cipher.secretKey,
    selfMaskSeed: maskJob.selfMaskSeed,
    maskSecretKey: maskJob.maskSecretKey,
    threshold: 3,
    peers: peers.map((p) => ({ clientId: p.clientId, cipherPublicKey: p.keys.publicKey })),
  };
  const maskWire = {
    ...maskJob,
    selfMaskSeed: onWire(maskJob.selfMaskSeed),
    maskSecretKey: onWire(maskJob.maskSecretKey),
    peers: maskJob.peers.map((p) => ({ ...p, maskPublicKey: onWire(p.maskPublicKey) })),
  };
  const shareWire = {
    ...shareJob,
    cipherSecretKey: onWire(shareJob.cipherSecretKey),
    selfMaskSeed: onWire(shareJob.selfMaskSeed),
    maskSecretKey: onWire(shareJob.maskSecretKey),
    peers: shareJob.peers.map((p) => ({ ...p, cipherPublicKey: onWire(p.cipherPublicKey) })),
  };
  return { maskJob, shareJob, maskWire, shareWire, cipher, peers };
}

/** The share job's neighbours in Node: each agrees the key the worker reported for it and opens its pair with it. */
function openedPairs({ cipher, peers }: ReturnType<typeof workerJobs>, shared: WireShares): SharePair[] {
  return peers.map((p, i) => {
    const key = agreeKey('share-encryption', 3, p.clientId, 'client-004', p.keys.secretKey, cipher.publicKey);
    assert.deepEqual(shared.shareKeys[i], Array.from(key));
    const { to, nonce, ciphertext } = shared.encryptedShares[i]!;
    assert.equal(to, p.clientId);
    const pair = openShares(key, { roundId: 3, from: 'client-004', to }, Uint8Array.from(nonce), Uint8Array.from(ciphertext));
    assert.ok(pair, `${p.clientId} opens its pair`);
    return pair;
  });
}

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

  /** A page on the assets' origin (a worker must be same-origin) running WORKER_ENTRY, and the shipped worker's URL. */
  async function workerPage(): Promise<{ page: Page; workerUrl: string }> {
    await ensureBundles();
    assets ??= await serveAssets();
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
    await page.goto(assets.origin);
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    return { page, workerUrl: `${assets.origin}/assets/${MASK_WORKER_FILE}` };
  }

  it('expands a mask job and makes share keys in the shipped Web Worker exactly as the page and Node would; a refused key stays a RangeError, a dead worker fails its job', async () => {
    const jobs = workerJobs();
    const { maskJob: job, maskWire: wire, shareJob, shareWire } = jobs;
    const { page, workerUrl } = await workerPage();
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const result = await page.evaluate(
      ([url, w]) => (globalThis as unknown as { maskWorkerProbe: (u: string, w: unknown) => Promise<Record<string, unknown>> }).maskWorkerProbe(url, w),
      [workerUrl, wire] as const,
    );
    assert.ok(workers.includes(workerUrl), `workers started: ${workers.join(', ')}`);
    // The worker's words (WebCrypto in Chromium) are the page's (pure JS) and Node's (node:crypto) for the same job.
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
    const shared = await page.evaluate(
      ([url, w]) =>
        (globalThis as unknown as { shareWorkerProbe: (u: string, w: unknown) => Promise<WireShares & { refused: Outcome }> }).shareWorkerProbe(url, w),
      [workerUrl, shareWire] as const,
    );
    const opened = openedPairs(jobs, shared);
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

  it('makes an unmask correction in the shipped worker (WebCrypto’s AES-CTR, one keystream per dropped peer) with the bytes of the page and Node; in a round with a dropout run in the page, the corrections from the worker unmask to the exact sum', async () => {
    const job: CorrectionJob = {
      vectorLength: 70_001, // past the 64 KiB keystream chunks
      masks: [1, -1, -1].map((sign, m) => ({ seed: Uint8Array.from({ length: 32 }, (_, i) => 13 * i + m), sign: sign as 1 | -1 })),
    };
    const wire = { vectorLength: job.vectorLength, masks: job.masks.map((m) => ({ seed: onWire(m.seed), sign: m.sign })) };
    const { page, workerUrl } = await workerPage();
    const result = await page.evaluate(
      ([url, w]) =>
        (
          globalThis as unknown as {
            correctionWorkerProbe: (
              u: string,
              w: unknown,
            ) => Promise<{ correction: number[]; sameAsPage: boolean; round: { status: string; exact: boolean; jobs: number[] }; aesCtrEncrypts: number }>;
          }
        ).correctionWorkerProbe(url, w),
      [workerUrl, wire] as const,
    );
    assert.deepEqual(result.correction, Array.from(runCorrectionJob(job)));
    assert.equal(result.sameAsPage, true);
    assert.equal(result.aesCtrEncrypts, job.masks.length);
    // c and d each corrected for e through the worker, and the server's sum is exactly the survivors' inputs.
    assert.deepEqual(result.round, { status: 'completed', exact: true, jobs: [1, 1] });
  });

  it('the shipped worker agrees through WebCrypto’s X25519 (k derivations a job) and, with X25519 hidden from WebCrypto, through tweetnacl: the same masks and share keys as Node either way, a low-order key refused as before', async () => {
    const jobs = workerJobs();
    const { page, workerUrl } = await workerPage();
    const here = expandMaskJob(jobs.maskJob);
    const k = jobs.maskJob.peers.length;
    type Probe = {
      mask: number[];
      seeds: number[][];
      maskDerivations: number;
      shares: WireShares;
      shareDerivations: number;
      refusedMask: Outcome;
      refusedRoster: Outcome;
    };
    for (const hideX25519 of [false, true]) {
      const result = await page.evaluate(
        ([url, m, sh, hide]) =>
          (globalThis as unknown as { x25519WorkerProbe: (u: string, m: unknown, s: unknown, h: boolean) => Promise<Probe> }).x25519WorkerProbe(
            url,
            m,
            sh,
            hide,
          ),
        [workerUrl, jobs.maskWire, jobs.shareWire, hideX25519] as const,
      );
      // The path taken: the worker's start checks RFC 7748's vector (one derivation), then each job derives its k
      // points in WebCrypto; with X25519 hidden there are none (tweetnacl).
      assert.deepEqual([result.maskDerivations, result.shareDerivations], hideX25519 ? [0, 0] : [1 + k, 1 + 2 * k], `hideX25519: ${hideX25519}`);
      assert.deepEqual(result.mask, Array.from(here.mask));
      assert.deepEqual(
        result.seeds,
        here.pairwiseSeeds.map((s) => Array.from(s)),
      );
      openedPairs(jobs, result.shares);
      assert.equal(result.refusedMask.name, 'RangeError');
      assert.match(result.refusedMask.message!, /low-order/);
      assert.equal(result.refusedRoster.name, 'SecAggError');
      assert.equal(result.refusedRoster.reason, 'BAD_ROSTER');
      assert.match(result.refusedRoster.message!, /low-order/);
    }
  });
});
