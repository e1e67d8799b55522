// The device path at real size: recommend(10) latency and peak memory, record()-to-updated-recommendations
// latency and local training samples/s, per engine (LiveRecsysTrainer's default = what the SDK picks,
// then js and tfjs side by side), for catalogues of 1,682, 100,000 and 1,000,000 items, in Node (each
// configuration in its own process: its peak RSS is its own) and in headless Chromium (WebGL through
// SwiftShader; peak RSS of the renderer and GPU processes). Synthetic global weights with the default
// model's sizes (NeuMF, GMF 8, MLP 16x2 -> 16-8) and a power-law popularity prior. Prints; never fails on speed.
// Run: npm run bench -- device [--sizes 1682,100000,1000000] [--engines default,js,tfjs] [--no-browser] [--no-node] [--budget-ms 3000]
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { build } from 'esbuild';
import express from 'express';
import { buildBrowser, DEFAULT_OUT_DIR } from '../scripts/build-browser.js';
import { CHROMIUM_ARGS, launchChromium } from '../test/browser/helpers.js';
import type { DeviceRow } from './device/measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const opts = new Command()
  .option('--sizes <list>', 'catalogue sizes', '1682,100000,1000000')
  .option('--engines <list>', 'engines: default (LiveRecsysTrainer’s), js, tfjs', 'default,js,tfjs')
  .option('--budget-ms <ms>', 'time per measurement once 5 runs are done', '3000')
  .option('--no-browser', 'Node only')
  .option('--no-node', 'Chromium only')
  .parse()
  .opts<{ sizes: string; engines: string; budgetMs: string; browser: boolean; node: boolean }>();
const sizes = opts.sizes.split(',').map(Number);
const engines = opts.engines.split(',');

type Row = DeviceRow & { env: string; backend: string; peakRssMb: number };

function runChild(items: number, engine: string): Promise<Row> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/device/node-child.ts'), String(items), engine, opts.budgetMs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`node child ${items}/${engine} exited ${code}: ${out}`));
      resolve({ ...(JSON.parse(line) as Omit<Row, 'env'>), env: 'node' });
    });
  });
}

/** Peak RSS (VmHWM) of the Chromium processes below this one, by --type (renderer, gpu-process). */
async function chromiumPeaks(): Promise<Record<string, number>> {
  const parent = new Map<number, number>();
  const kind = new Map<number, string>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      // Chromium rewrites its children's titles into one space-separated string.
      const cmd = (await readFile(`/proc/${d}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (/^\S*chrom/.test(cmd)) kind.set(Number(d), /--type=(\S+)/.exec(cmd)?.[1] ?? 'browser');
    } catch {
      // The process ended while we looked.
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  const out: Record<string, number> = {};
  for (const [pid, t] of kind) {
    if (!mine(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    out[t] = Math.max(out[t] ?? 0, kb / 1024);
  }
  return out;
}

async function runBrowser(rows: Row[]): Promise<void> {
  await buildBrowser({ entries: ['fedrec-client'] }); // also copies the wasm backend's files
  await build({
    absWorkingDir: ROOT,
    entryPoints: { 'bench-device': join(ROOT, 'bench/device/page.ts') },
    outdir: DEFAULT_OUT_DIR,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022'],
    minify: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const app = express();
  app.use('/assets', express.static(DEFAULT_OUT_DIR));
  app.get('/', (_req, res) => void res.type('html').send('<!doctype html><title>fedrec device bench</title>'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const items of sizes) {
      for (const engine of engines) {
        // A fresh browser per configuration, so the peak memory read afterwards is this one's.
        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          await page.addInitScript('globalThis.__name = (fn) => fn;');
          await page.goto(origin);
          const row = await page.evaluate(
            async ({ items, engine, budget }) => {
              await import('/assets/bench-device.js' as string);
              const b = (globalThis as unknown as { fedrecDeviceBench: { selectBackend(): Promise<string>; measureDevice(o: object): Promise<DeviceRow> } })
                .fedrecDeviceBench;
              const backend = await b.selectBackend();
              return { ...(await b.measureDevice({ numItems: items, ...(engine === 'default' ? {} : { engine }), budgetMs: budget })), backend };
            },
            { items, engine, budget: Number(opts.budgetMs) },
          );
          const peaks = await chromiumPeaks();
          rows.push({ ...row, env: 'chromium', peakRssMb: (peaks['renderer'] ?? 0) + (peaks['gpu-process'] ?? 0) });
          print(rows.at(-1)!);
        } catch (err) {
          console.log(`chromium ${items} ${engine}: failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        } finally {
          await browser.close();
        }
      }
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const header =
  '| env | engine | backend | items | recommend(10) median ms | p95 ms | CPU ms | cached ms | record→recs median ms | changed | train samples/s | peak RSS MB |';
function print(r: Row): void {
  console.log(
    `| ${r.env} | ${r.engine} | ${r.backend} | ${r.items.toLocaleString('en-US')} | ${f(r.recommendMedianMs)} | ${f(r.recommendP95Ms)} | ${f(r.recommendCpuMs)} | ${f(r.cachedMedianMs, 2)} | ${f(r.recordToRecsMedianMs)} | ${r.recordChanged} | ${Math.round(r.trainSamplesPerSec).toLocaleString('en-US')} | ${f(r.peakRssMb, 0)} |`,
  );
}

console.log(`device benchmark: sizes ${sizes.join(', ')}; engines ${engines.join(', ')}; chromium flags ${CHROMIUM_ARGS.join(' ')}`);
console.log(header);
console.log(`|${' --- |'.repeat(12)}`);
const rows: Row[] = [];
if (opts.node) {
  for (const items of sizes) {
    for (const engine of engines) {
      try {
        rows.push(await runChild(items, engine));
        print(rows.at(-1)!);
      } catch (err) {
        console.log(`node ${items} ${engine}: failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }
  }
}
if (opts.browser) await runBrowser(rows);

// The engine rule's check: the default engine against the fastest on this machine, per env and size.
for (const env of ['node', 'chromium']) {
  for (const items of sizes) {
    const here = rows.filter((r) => r.env === env && r.items === items);
    const chosen = here.find((r) => r.engine === 'default');
    if (!chosen || here.length < 2) continue;
    const fastestTrain = Math.max(...here.map((r) => r.trainSamplesPerSec));
    const fastestRec = Math.min(...here.map((r) => r.recommendMedianMs));
    console.log(
      `${env} ${items}: default engine trains at ${(fastestTrain / chosen.trainSamplesPerSec).toFixed(2)}x below the fastest, recommends at ${(chosen.recommendMedianMs / fastestRec).toFixed(2)}x the fastest`,
    );
  }
}
