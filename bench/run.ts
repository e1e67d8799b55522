// `npm run bench -- NAME [flags]` runs bench/NAME.ts with the flags; with no name it lists them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Benchmarks in sub-folders (the rest of those folders are their helpers): named by their path. */
const NESTED = ['secagg/mask-worker', 'secagg/mask-worker-page'];
const benches = [
  ...readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3)),
  ...NESTED,
].sort();

const [name, ...flags] = process.argv.slice(2);
if (!name || !benches.includes(name)) {
  console.log(`usage: npm run bench -- <name> [flags]\nbenchmarks: ${benches.join(', ')}`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', `${here}${name}.ts`, ...flags], { stdio: 'inherit' });
process.exit(result.status ?? 1);
