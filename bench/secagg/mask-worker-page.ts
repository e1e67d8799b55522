/**
 * The browser row of bench/secagg/mask-worker.ts: how long a page's main thread is held by one round's SecAgg+ mask
 * work (k X25519 agreements, k + 1 pure-JS AES-CTR expansions) run there (createFederatedClient, or
 * createBrowserClient with maskWorker: false) against handing it to the shipped Web Worker (createBrowserClient's
 * default, dist/browser/fedrec-mask-worker.js).
 *   node --import tsx bench/secagg/mask-worker-page.ts [--clients 100] [--params 100000] [--calls 8]
 * In headless Chromium, one page: a 4 ms timer ticks on the main thread while each job is done, and "longest
 * main-thread task" is the largest gap between two of its ticks (4 ms when nothing blocks), what a training step or
 * a frame on that page waits at worst; "until the mask is in" is from the call to the mask. k is the secagg+ 'auto' neighbour count
 * at --clients; the first call of each path warms it and is not counted. Wall clock (performance.now).
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
  .parse()
  .opts<{ clients: string; params: string; calls: string }>();
const k = neighbourCount(parseSecAggConfig({ mode: 'secagg+' }), Number(opts.clients));
const vectorLength = contributionLayout({ tensors: [{ name: 'dense', shape: [Number(opts.params)], dtype: 'float32', shared: true }] }).vectorLength;

const PAGE = `
import { expandMaskJob, generateKeyPair } from './secagg/index.ts';
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
  const rows = await page.evaluate(
    ([url, kk, len, calls]) =>
      (globalThis as unknown as { maskBench: (u: string, k: number, l: number, c: number) => Promise<{ thread: Row[]; worker: Row[] }> }).maskBench(
        url,
        kk,
        len,
        calls,
      ),
    [`${assets.origin}/assets/${MASK_WORKER_FILE}`, k, vectorLength, Number(opts.calls)] as const,
  );
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  const row = (rs: Row[]) => ({
    'longest main-thread task': med(rs.map((r) => r.longest)).toFixed(1),
    'until the mask is in': med(rs.map((r) => r.done)).toFixed(1),
  });
  console.log(
    `Chromium ${browser.version()}: k = ${k} (secagg+ auto at ${opts.clients} clients), ${vectorLength} words; ${opts.calls} jobs per path; medians, wall ms; load ${loadavg()[0]!.toFixed(1)}`,
  );
  console.table({ 'expandMaskJob on the page': row(rows.thread), WebWorkerMaskExpander: row(rows.worker) });
} finally {
  await browser.close();
  await assets.close();
}
