/**
 * A device's quantization of its delta (encodeContribution), cold and warm, on the JavaScript path (before: one
 * Math.random draw per value, the loops interpreted until V8 optimizes them) and on the WebAssembly kernel (shipped:
 * dither drawn in bulk, secagg/quantize-kernel.ts). A device quantizes once a round, so its figure is the cold one.
 *   node --import tsx bench/secagg/quantize-cold.ts [--params 100000] [--item-rows 0] [--norm-bound <L2>] [--processes 5] [--warm 30]
 * Cold: the first call in a fresh process (one per sample, the paths' processes interleaved); warm: the median of
 * the next --warm calls in the same processes. A third path runs prepareContribution first, as SecAggParticipant does
 * while the device trains, and prints its cost apart (off the critical path). Times are process CPU (user + system, V8's compiler threads included)
 * and wall; the config is the workers harness's (bench/secagg.ts: clipRange 0.1, maxWeight 256, stochastic).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { parseSecAggConfig } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import { contributionLayout, encodeContribution, prepareContribution, quantizeKernel } from '@fedrec/secagg';
import { processCpuMs } from './cpu-clock.js';
import { clientContribution } from './population.js';

const PATHS = ['js', 'kernel', 'prepared'] as const;
type Path = (typeof PATHS)[number];
const LABELS: Record<Path, string> = {
  js: 'JavaScript, Math.random (before)',
  kernel: 'WebAssembly kernel, bulk dither',
  prepared: 'the same after prepareContribution (as the SDK runs it)',
};

const opts = new Command()
  .option('--params <n>', 'dense parameters per delta', '100000')
  .option('--item-rows <n>', 'rows of a rowwise item table of 32 columns added to the delta (row weights 0..20)', '0')
  .option('--norm-bound <L2>', 'L2 norm bound (scales the delta; off by default, as in the harness)')
  .option('--processes <n>', 'fresh processes per path', '5')
  .option('--warm <n>', 'warm calls after the first, per process', '30')
  .option('--child <path>', 'internal: time one process on this path and print its figures as JSON')
  .parse()
  .opts<{ params: string; itemRows: string; normBound?: string; processes: string; warm: string; child?: Path }>();

interface Figures {
  /** prepareContribution's own CPU time ('prepared' path only; the participant runs it before training ends). */
  prepareCpuMs: number;
  coldCpuMs: number;
  coldWallMs: number;
  warmCpuMs: number;
  warmWallMs: number;
}

function child(path: Path): Figures {
  const params = Number(opts.params);
  const itemRows = Number(opts.itemRows);
  const manifest: WeightManifest = {
    tensors: [
      { name: 'dense', shape: [params], dtype: 'float32', shared: true },
      ...(itemRows > 0 ? [{ name: 'items', shape: [itemRows, 32], dtype: 'float32' as const, shared: true, rowwise: true }] : []),
    ],
  };
  const layout = contributionLayout(manifest);
  const config = parseSecAggConfig({ mode: 'secagg+', clipRange: 0.1, maxWeight: 256, ...(opts.normBound ? { normBound: Number(opts.normBound) } : {}) });
  const calls = 1 + Number(opts.warm);
  // Every call gets its own delta, made before any timing (the population's, as the workers harness sends).
  const inputs = Array.from({ length: calls }, (_, i) => {
    const c = clientContribution(7, i, layout.deltaLength);
    const rowWeights = Float32Array.from({ length: layout.rowWeightsLength }, (_, r) => (r * 7 + i) % 21);
    return { ...c, rowWeights };
  });
  if (path !== 'js' && !quantizeKernel) throw new Error('no WebAssembly kernel on this platform');
  const t = processCpuMs();
  if (path === 'prepared') prepareContribution(layout);
  const prepareCpuMs = processCpuMs() - t;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (const c of inputs) {
    const t0 = processCpuMs();
    const w0 = performance.now();
    // The JavaScript path as it ran before: an injected UniformSource, drawn once per value.
    if (path === 'js') encodeContribution(c, layout, config, Math.random);
    else encodeContribution(c, layout, config);
    wall.push(performance.now() - w0);
    cpu.push(processCpuMs() - t0);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return { prepareCpuMs, coldCpuMs: cpu[0]!, coldWallMs: wall[0]!, warmCpuMs: median(cpu.slice(1)), warmWallMs: median(wall.slice(1)) };
}

if (opts.child) {
  console.log(JSON.stringify(child(opts.child)));
} else {
  const forwarded = process.argv.slice(2);
  const runs: Record<Path, Figures[]> = { js: [], kernel: [], prepared: [] };
  for (let p = 0; p < Number(opts.processes); p++) {
    for (const path of PATHS) {
      const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...forwarded, '--child', path], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${path} process failed: ${out.stderr}`);
      runs[path].push(JSON.parse(out.stdout.trim().split('\n').pop()!) as Figures);
    }
  }
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const layout = `${opts.params} dense${Number(opts.itemRows) > 0 ? ` + ${opts.itemRows}×32 rowwise` : ''}${opts.normBound ? `, L2 bound ${opts.normBound}` : ''}`;
  console.log(
    `encodeContribution, ${layout}, stochastic; ${opts.processes} fresh processes per path (load ${loadavg()[0]!.toFixed(2)}, ${new Date().toISOString()})`,
  );
  console.table(
    Object.fromEntries(
      PATHS.map((path) => {
        const f = runs[path];
        return [
          LABELS[path],
          {
            'prepare cpu ms': path === 'prepared' ? median(f.map((x) => x.prepareCpuMs)).toFixed(2) : '',
            'cold cpu ms (each process)': list(f.map((x) => x.coldCpuMs)),
            'cold wall ms (each process)': list(f.map((x) => x.coldWallMs)),
            'cold cpu median': median(f.map((x) => x.coldCpuMs)).toFixed(2),
            'warm cpu median': median(f.map((x) => x.warmCpuMs)).toFixed(2),
            'warm wall median': median(f.map((x) => x.warmWallMs)).toFixed(2),
          },
        ];
      }),
    ),
  );
}
