/**
 * The browser row of bench/secagg/mask-worker.ts: how long a page's main thread is held by one round's SecAgg+ device
 * work run there (createFederatedClient, or createBrowserClient with maskWorker: false) against handing it to the
 * shipped Web Worker (createBrowserClient's default, dist/browser/fedrec-mask-worker.js): stage 1's share keys
 * (`shareKeys` against `shareKeysWith` the worker: k X25519 agreements, two Shamir splits, k seals) and stage 2's
 * masks (`expandMaskJob` against the worker: k agreements, k + 1 AES-CTR expansions), and stage 3's unmask (`unmask`
 * on the page, what createFederatedClient runs, against `unmaskWith` the worker: one AES-CTR expansion per dropped
 * neighbour); X25519 and AES are pure JS on the page, WebCrypto's in the worker.
 *   node --import tsx bench/secagg/mask-worker-page.ts [--clients 100] [--params 100000] [--calls 8] [--dropout 0.3]
 * In headless Chromium, one page: a 4 ms timer ticks on the main thread while each job is done, and "longest
 * main-thread task" is the largest gap between two of its ticks (4 ms when nothing blocks), what a training step or
 * a frame on that page waits at worst; "until done" is from the call to the shares or the mask. Share keys: a real
 * secagg+ round of --clients clients set up in the page to its rosters, each measured client answering its own
 * roster (the roster checks run on the page on both paths). Masks: k is the secagg+ 'auto' neighbour count at
 * --clients. Unmask: a real secagg+ round of --clients clients at --params set up in the page (its share keys and
 * masks made on the worker, untimed), the last --dropout of them dropping after share keys, each measured survivor
 * answering its own unmask request ("until done" is to the reply). The first call of each path warms it and is not
 * counted. Wall clock (performance.now).
 */
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { build } from 'esbuild';
import { parseSecAggConfig } from '@fedrec/protocol';
import { contributionLayout, neighbourCount } from '@fedrec/secagg';
import { MASK_WORKER_FILE } from '@fedrec/client-sdk/browser/web-worker-mask-expander.js';
import { ensureBundles, launchChromium, newDevicePage, serveAssets } from '../../test/browser/helpers.js';

const opts = new Command()
  .option('--clients <n>', 'clients in the round (sets k)', '100')
  .option('--params <n>', 'parameters per delta', '100000')
  .option('--calls <n>', 'jobs measured on each path', '8')
  .option('--dropout <rate>', 'share of the clients that drop after sharing keys (unmask)', '0.3')
  .parse()
  .opts<{ clients: string; params: string; calls: string; dropout: string }>();
const k = neighbourCount(parseSecAggConfig({ mode: 'secagg+' }), Number(opts.clients));
const vectorLength = contributionLayout({ tensors: [{ name: 'dense', shape: [Number(opts.params)], dtype: 'float32', shared: true }] }).vectorLength;

const PAGE = `
import { expandMaskJob, generateKeyPair, SecAggClient, SecAggServer } from './secagg/index.ts';
import { parseSecAggConfig } from './protocol/index.ts';
import { WebWorkerMaskExpander } from './client-sdk/browser/web-worker-mask-expander.ts';
const job = (k, vectorLength) => ({ roundId: 1, clientId: 'bench', vectorLength, selfMaskSeed: crypto.getRandomValues(new Uint8Array(32)),
  maskSecretKey: generateKeyPair().secretKey, peers: Array.from({ length: k }, (_, i) => ({ clientId: 'peer-' + i, maskPublicKey: generateKeyPair().publicKey })) });
// Runs work() in a task of its own while a timer ticks on this thread (setTimeout 0, clamped to 4 ms: a ticker that
// spun would take a core from the worker); the longest gap between ticks, up to the first tick after the mask is in,
// and the time to the mask.
function measured(work) {
  return new Promise((resolve) => {
    let last = performance.now(), longest = 0, done;
    const tick = () => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
      if (done === undefined) setTimeout(tick, 0);
      else resolve({ longest, done });
    };
    setTimeout(tick, 0);
    setTimeout(async () => {
      const t = performance.now();
      await work();
      done = performance.now() - t;
    }, 20);
  });
}
globalThis.shareBench = async (workerUrl, n, calls) => {
  const config = parseSecAggConfig({ mode: 'secagg+' });
  const server = new SecAggServer({ roundId: 1, config, vectorLength: 8 });
  const ids = Array.from({ length: n }, (_, i) => 'client-' + String(i).padStart(4, '0'));
  const clients = ids.map((id) => new SecAggClient({ clientId: id, roundId: 1, config, vectorLength: 8 }));
  clients.forEach((c, i) => server.acceptAdvertisement(ids[i], c.advertiseKeys()));
  const rosters = server.closeAdvertisement();
  if (rosters.status !== 'continue') throw new Error(rosters.reason);
  const expander = new WebWorkerMaskExpander(workerUrl);
  const rows = { thread: [], worker: [] };
  for (let i = 0; i <= calls; i++) {
    const [a, b] = [clients[2 * i], clients[2 * i + 1]];
    const here = await measured(() => a.shareKeys(rosters.messages.get(a.clientId)));
    const there = await measured(() => b.shareKeysWith(rosters.messages.get(b.clientId), expander.runShareJob));
    if (i === 0) continue;
    rows.thread.push(here);
    rows.worker.push(there);
  }
  expander.close();
  return { k: rosters.messages.get(ids[0]).neighbours.length, rows };
};
globalThis.unmaskBench = async (workerUrl, n, vectorLength, dropout, calls) => {
  const config = parseSecAggConfig({ mode: 'secagg+' });
  const server = new SecAggServer({ roundId: 1, config, vectorLength });
  const ids = Array.from({ length: n }, (_, i) => 'client-' + String(i).padStart(4, '0'));
  const clients = new Map(ids.map((id) => [id, new SecAggClient({ clientId: id, roundId: 1, config, vectorLength })]));
  for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
  const rosters = server.closeAdvertisement();
  if (rosters.status !== 'continue') throw new Error(rosters.reason);
  const expander = new WebWorkerMaskExpander(workerUrl);
  for (const [id, roster] of rosters.messages) server.acceptShareKeys(id, await clients.get(id).shareKeysWith(roster, expander.runShareJob));
  const forwarded = server.closeShareKeys();
  if (forwarded.status !== 'continue') throw new Error(forwarded.reason);
  const dropped = new Set(ids.slice(n - Math.round(dropout * n)));
  const zeros = new Uint32Array(vectorLength);
  for (const [id, shares] of forwarded.messages) {
    if (dropped.has(id)) continue;
    await clients.get(id).receiveSharesWith(shares, expander.expand);
    server.acceptMaskedInput(id, clients.get(id).maskInput(zeros));
  }
  const requests = server.closeMaskedInput();
  if (requests.status !== 'continue') throw new Error(requests.reason);
  const unmasks = [...requests.messages];
  const rows = { thread: [], worker: [], dropped: unmasks.map(([, r]) => r.dropped.length) };
  for (let i = 0; i <= calls; i++) {
    const [[a, ra], [b, rb]] = [unmasks[2 * i], unmasks[2 * i + 1]];
    const here = await measured(async () => clients.get(a).unmask(ra));
    const there = await measured(() => clients.get(b).unmaskWith(rb, expander.correct));
    if (i === 0) continue;
    rows.thread.push(here);
    rows.worker.push(there);
  }
  expander.close();
  return rows;
};
globalThis.maskBench = async (workerUrl, k, vectorLength, calls) => {
  const expander = new WebWorkerMaskExpander(workerUrl);
  const rows = { thread: [], worker: [] };
  for (let i = 0; i <= calls; i++) {
    const [a, b] = [job(k, vectorLength), job(k, vectorLength)]; // keys made untimed: pure-JS X25519 here too
    const here = await measured(async () => expandMaskJob(a));
    const there = await measured(() => expander.expand(b));
    if (i === 0) continue;
    rows.thread.push(here);
    rows.worker.push(there);
  }
  expander.close();
  return rows;
};
`;

await ensureBundles();
const assets = await serveAssets();
const bundle = await build({
  stdin: { contents: PAGE, resolveDir: process.cwd(), loader: 'ts' },
  bundle: true,
  platform: 'browser',
  format: 'iife',
  write: false,
  logLevel: 'silent',
});
const browser = await launchChromium();
type Row = { longest: number; done: number };
try {
  const page = await newDevicePage(browser);
  await page.goto(assets.origin);
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  const workerUrl = `${assets.origin}/assets/${MASK_WORKER_FILE}`;
  const shares = await page.evaluate(
    ([url, clients, calls]) =>
      (globalThis as unknown as { shareBench: (u: string, n: number, c: number) => Promise<{ k: number; rows: { thread: Row[]; worker: Row[] } }> }).shareBench(
        url,
        clients,
        calls,
      ),
    [workerUrl, Number(opts.clients), Number(opts.calls)] as const,
  );
  const rows = await page.evaluate(
    ([url, kk, len, calls]) =>
      (globalThis as unknown as { maskBench: (u: string, k: number, l: number, c: number) => Promise<{ thread: Row[]; worker: Row[] }> }).maskBench(
        url,
        kk,
        len,
        calls,
      ),
    [workerUrl, k, vectorLength, Number(opts.calls)] as const,
  );
  const unmasks = await page.evaluate(
    ([url, clients, len, dropout, calls]) =>
      (
        globalThis as unknown as {
          unmaskBench: (u: string, n: number, l: number, d: number, c: number) => Promise<{ thread: Row[]; worker: Row[]; dropped: number[] }>;
        }
      ).unmaskBench(url, clients, len, dropout, calls),
    [workerUrl, Number(opts.clients), vectorLength, Number(opts.dropout), Number(opts.calls)] as const,
  );
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  const row = (rs: Row[]) => ({
    'longest main-thread task': med(rs.map((r) => r.longest)).toFixed(1),
    'until done': med(rs.map((r) => r.done)).toFixed(1),
  });
  console.log(
    `Chromium ${browser.version()}: k = ${k} (secagg+ auto at ${opts.clients} clients; share keys k = ${shares.k}), ${vectorLength} words; ${opts.calls} calls per path; ` +
      `unmask: ${opts.dropout} of the clients dropped after share keys, median ${med(unmasks.dropped)} dropped neighbours a survivor; medians, wall ms; load ${loadavg()[0]!.toFixed(1)}`,
  );
  console.table({
    'shareKeys on the page': row(shares.rows.thread),
    'shareKeysWith + WebWorkerMaskExpander.runShareJob': row(shares.rows.worker),
    'expandMaskJob on the page': row(rows.thread),
    'WebWorkerMaskExpander.expand': row(rows.worker),
    'unmask on the page': row(unmasks.thread),
    'unmaskWith + WebWorkerMaskExpander.correct': row(unmasks.worker),
  });
} finally {
  await browser.close();
  await assets.close();
}
