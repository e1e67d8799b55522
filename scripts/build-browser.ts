// Builds the browser bundles (client SDK, dashboard, demo) into dist/browser with esbuild,
// copies the wasm backend's files next to them, refuses Node-only code and prints sizes.
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT_DIR = join(ROOT, 'dist', 'browser');

/** Output name → entry file: one self-contained ES module each. */
export const BROWSER_ENTRIES: Record<string, string> = {
  'fedrec-client': 'client-sdk/browser/index.ts',
  // The SDK's SecAgg+ mask worker: every bundle that holds the SDK starts it from next to itself (MASK_WORKER_FILE).
  'fedrec-mask-worker': 'client-sdk/browser/mask-worker.ts',
  dashboard: 'dashboard/app/main.ts',
  demo: 'examples/browser-demo/app/main.ts',
  'own-data': 'examples/own-data/app/main.ts',
};

/** Inputs that must never reach a browser bundle (server code, Node-only packages). */
const FORBIDDEN_INPUTS: readonly RegExp[] = [
  /^coordinator\//,
  /^client-sdk\/node\//,
  /^dashboard\/(?!app\/|types\.ts$)/,
  /^recsys\/data\/files\.ts$/,
  /node_modules\/(express|socket\.io|engine\.io|ws|pino|commander|prom-client|@tensorflow\/tfjs-node)\//,
];

export interface BuildBrowserOptions {
  outDir?: string;
  minify?: boolean;
  /** Only these entries (default all). */
  entries?: string[];
}

export interface BuiltFile {
  file: string;
  bytes: number;
}

/** Throws when any input of the bundle is Node-only: esbuild's platform=browser catches built-ins, this catches the rest. */
export function assertBrowserSafe(metafile: Metafile): void {
  const bad = Object.keys(metafile.inputs).filter((input) => FORBIDDEN_INPUTS.some((re) => re.test(input)));
  if (bad.length > 0) throw new Error(`Node-only code reached a browser bundle:\n  ${bad.join('\n  ')}`);
}

async function copyWasmFiles(outDir: string): Promise<BuiltFile[]> {
  const source = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const target = join(outDir, 'wasm');
  await mkdir(target, { recursive: true });
  const out: BuiltFile[] = [];
  for (const name of await readdir(source)) {
    if (!name.endsWith('.wasm')) continue;
    await copyFile(join(source, name), join(target, name));
    out.push({ file: join(target, name), bytes: (await stat(join(target, name))).size });
  }
  return out;
}

/** Builds every browser bundle; rejects when esbuild fails (e.g. a Node built-in import) or a Node-only input slips in. */
export async function buildBrowser(options: BuildBrowserOptions = {}): Promise<BuiltFile[]> {
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  const names = options.entries ?? Object.keys(BROWSER_ENTRIES);
  const entryPoints = Object.fromEntries(names.map((n) => [n, join(ROOT, BROWSER_ENTRIES[n] ?? n)]));
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: outDir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022'],
    minify: options.minify ?? true,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  assertBrowserSafe(result.metafile);
  const files: BuiltFile[] = Object.entries(result.metafile.outputs).map(([file, o]) => ({ file: join(ROOT, file), bytes: o.bytes }));
  return [...files, ...(await copyWasmFiles(outDir))];
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  try {
    const files = await buildBrowser();
    console.log(`browser bundles in ${relative(process.cwd(), DEFAULT_OUT_DIR) || '.'} (${Date.now() - started} ms):`);
    for (const f of files) console.log(`  ${relative(dirname(DEFAULT_OUT_DIR), f.file).padEnd(48)} ${formatSize(f.bytes).padStart(10)}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
