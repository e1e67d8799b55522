// `npm run bench -- coordinator [--quick]`: the coordinator's update path, before (everything on the event
// loop, tweetnacl bulk) and after (update workers, AES-256-GCM bulk) in one run. Figures are medians from
// this run on this machine as it is; the load average is printed with them.
import { fork } from 'node:child_process';
import { loadavg, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UpdateAccumulator } from '@fedrec/coordinator';
import { MAX_FUSED } from '@fedrec/coordinator/strategy/simd-axpy.js';
import { FLOAT32_BLOCK } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { defaultUpdateWorkers } from '@fedrec/coordinator/update-pool/update-pool.js';
import type { WeightManifest } from '@fedrec/protocol';
import { measureAead } from './coordinator/aead.js';
import { measureDecodeCopy } from './coordinator/decode-copy.js';
import type { RunResult, RunSpec } from './coordinator/coordinator-run.js';

const quick = process.argv.includes('--quick');
// `--only accumulate|aead|decode|rounds|rss|rss-buffered|idle`: one section (the others take minutes on a shared machine);
// `--sizes` and `--rows` narrow the rounds section (see there).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const runs = (section: string) => only === undefined || only === section;
const here = fileURLToPath(new URL('.', import.meta.url));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function timeMedian(reps: number, fn: () => void): number {
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

console.log(
  `bench coordinator${quick ? ' --quick' : ''}: ${availableParallelism()} cores, update workers by default ${defaultUpdateWorkers()}, load average ${load()}`,
);

// 1. Accumulate vs memcpy, on the same 10M-float vectors, through UpdateAccumulator.addMany: the call the
// update workers' shards make (update-shard.ts's drain), with the updates that are waiting at once. One timing
// covers a block of FLOAT32_BLOCK updates, including the flush into float64 that ends it, so the figure is the
// amortized cost per update. Rows: one update at a time (nothing else waiting) and fused groups of 2 and 4.
if (runs('accumulate')) {
  const n = quick ? 2_000_000 : 10_000_000;
  const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [n], dtype: 'float32', shared: true }] };
  const deltas = Array.from({ length: MAX_FUSED }, (_, j) => Float32Array.from({ length: n }, (_, i) => (((i + 7 * j) % 101) - 50) / 1024));
  const copy = new Float32Array(n);
  const before = new UpdateAccumulator(manifest, { kernel: 'float64' });
  const groups = [1, 2, MAX_FUSED];
  const accs = groups.map(() => new UpdateAccumulator(manifest));
  const block = (acc: UpdateAccumulator, group: number) => () => {
    for (let k = 0; k < FLOAT32_BLOCK; k += group)
      acc.addMany(Array.from({ length: group }, (_, j) => ({ numExamples: 3 + j, delta: deltas[j]!, rowWeights: undefined })));
  };
  // Interleaved: every round times memcpy, then a block of each accumulator, so a change of load or of
  // memory placement during the run shifts all rows alike; medians over the rounds.
  const reps = quick ? 5 : 11;
  copy.set(deltas[0]!); // first touch of the target's pages stays out of the timings
  accs.forEach((acc, g) => block(acc, groups[g]!)());
  const memcpyT: number[] = [];
  const beforeT: number[] = [];
  const afterT = groups.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    memcpyT.push(timeMedian(3, () => copy.set(deltas[0]!)));
    if (r < 3) beforeT.push(timeMedian(1, block(before, 1)) / FLOAT32_BLOCK); // the slow loop: 3 rounds are enough
    accs.forEach((acc, g) => afterT[g]!.push(timeMedian(1, block(acc, groups[g]!)) / FLOAT32_BLOCK));
  }
  const memcpyMs = median(memcpyT);
  const beforeMs = median(beforeT);
  const gbps = (ms: number) => (n * 4) / 1e9 / (ms / 1e3);
  console.log(
    `\n[accumulate] ${n / 1e6}M floats; ${reps} interleaved rounds (memcpy median of 3, then one block of ${FLOAT32_BLOCK} updates per row), medians; GB/s of update bytes, per update amortized over the block (load ${load()})`,
  );
  console.log(`  Float32Array.set (memcpy)       ${f(gbps(memcpyMs))} GB/s median; per round ${memcpyT.map((ms) => f(gbps(ms), 1)).join(' ')} GB/s`);
  console.log(`  float64 loop (the old path)     ${f(gbps(beforeMs))} GB/s   ratio to memcpy ${f(memcpyMs / beforeMs)}`);
  groups.forEach((group, g) => {
    const ms = median(afterT[g]!);
    const label = group === 1 ? 'SIMD, one at a time' : `SIMD, ${group} fused per pass`;
    // Same-round ratios: memcpy and this row timed back to back, so a burst of load hits both.
    const ratios = afterT[g]!.map((t, r) => memcpyT[r]! / t);
    console.log(
      `  ${label.padEnd(31)} ${f(gbps(ms))} GB/s   ratio to memcpy ${f(memcpyMs / ms)} (same-round ratios: min ${f(Math.min(...ratios))}, median ${f(median(ratios))}); per round ${afterT[g]!.map((t) => f(gbps(t), 1)).join(' ')} GB/s`,
    );
  });
}

// 2. Bulk sealing: this version's envelopes (node:crypto AES-256-GCM in Node; WebCrypto shown for
// reference, it is the browsers' path) vs tweetnacl's secretbox with the session key agreed. Rows for a new
// output buffer per message, a reused one, and the SDK's path (in place, into the encoded payload).
if (runs('aead')) {
  const reps = quick ? 7 : 15;
  for (const bytes of [1 << 20, 4 << 20]) {
    const r = await measureAead(bytes, reps);
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1e3);
    const nacl = r.rows.find((x) => x.name === 'tweetnacl secretbox')!;
    console.log(`\n[bulk AEAD] ${bytes >> 20} MiB messages, session key cached, median of ${reps} interleaved reps (load ${load()})`);
    for (const row of r.rows) {
      const ratio =
        row === nacl
          ? ''
          : `   vs tweetnacl: seal ${f(nacl.sealMs / row.sealMs, 1)}x (same-round ratios: min ${f(Math.min(...row.sealRatios), 1)}x, median ${f(median(row.sealRatios), 1)}x)  open ${f(nacl.openMs / row.openMs, 1)}x`;
      console.log(`  ${row.name.padEnd(27)} seal ${f(mbps(row.sealMs), 0).padStart(5)} MB/s   open ${f(mbps(row.openMs), 0).padStart(5)} MB/s${ratio}`);
    }
    console.log('  by process CPU time (less sensitive to the scheduler of a shared machine):');
    for (const row of r.rows) {
      const ratio = row === nacl ? '' : `   vs tweetnacl: seal ${f(nacl.sealCpuMs / row.sealCpuMs, 1)}x  open ${f(nacl.openCpuMs / row.openCpuMs, 1)}x`;
      console.log(`  ${row.name.padEnd(27)} seal ${f(row.sealCpuMs, 2).padStart(6)} ms   open ${f(row.openCpuMs, 2).padStart(6)} ms${ratio}`);
    }
  }
}

// 2b. The update worker's open + decode + validate per update, the dense delta copied out of the plaintext
// (before) or viewed in it (after), blocks alternating in one process (`--only decode`).
if (runs('decode')) {
  const params = 100_000;
  const perBlock = quick ? 200 : 500;
  const rounds = quick ? 6 : 10;
  const rows = await measureDecodeCopy(params, perBlock, rounds);
  console.log(
    `\n[decode] open + decode + validate one ${params.toLocaleString('en')}-parameter update, ${rounds} alternating blocks of ${perBlock}, medians per update (load ${load()})`,
  );
  for (const r of rows)
    console.log(
      `  ${r.name.padEnd(14)} wall ${f(r.wallMs, 3)} ms   process CPU ${f(r.cpuMs, 3)} ms   GC pauses ${f(r.gcPauseMs, 3)} ms (${r.gcCount} per block)   ArrayBuffer growth in a block ${f(r.externalKB, 0)} KB`,
    );
  const [before, after] = rows as [(typeof rows)[0], (typeof rows)[0]];
  console.log(
    `  after / before: wall ${f(after.wallMs / before.wallMs, 2)}, CPU ${f(after.cpuMs / before.cpuMs, 2)}, GC pauses ${f(after.gcPauseMs / before.gcPauseMs, 2)}`,
  );
}

/** One measured coordinator run; a failed run prints why and yields undefined (the other figures still come). */
async function run(spec: RunSpec, benchDir = here): Promise<RunResult | undefined> {
  try {
    return await runOnce(spec, benchDir);
  } catch (err) {
    console.log(`  (run ${JSON.stringify(spec)} failed: ${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

/** `benchDir`: this checkout's bench/ or a baseline checkout's (`--baseline`), whose coordinator code then runs. */
function runOnce(spec: RunSpec, benchDir: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(benchDir, 'coordinator', 'coordinator-run.ts'), [JSON.stringify(spec)], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) reject(new Error(`coordinator run ${JSON.stringify(spec)} exited ${code} without a result`));
      else resolve(JSON.parse(line.slice(7)) as RunResult);
    });
  });
}

const after = defaultUpdateWorkers();

// 3. Rounds over real Socket.IO: devices in child processes, the coordinator in its own.
// `--sizes 1000,5000` picks the round sizes; `--rows base,compression,buffered` picks row groups (default all).
const listArg = (name: string): string[] | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]!.split(',') : undefined;
};
if (runs('rounds')) {
  const sizes = listArg('--sizes')?.map(Number) ?? (quick ? [100, 500] : [1000, 5000]);
  const groups = new Set(listArg('--rows') ?? ['base', 'compression', 'buffered']);
  // `--baseline DIR` (another checkout of this repository, e.g. `git archive main` unpacked, with node_modules):
  // each row runs DIR's coordinator, then this one's, `--pairs N` times alternating (default 1), so a change is
  // measured against its base in one run, under the same load, and the row ends with the median ratios.
  const baselineAt = process.argv.indexOf('--baseline');
  const baseline = baselineAt >= 0 ? join(process.argv[baselineAt + 1]!, 'bench') : undefined;
  const pairs = Number(listArg('--pairs')?.[0] ?? 1);
  const params = 100_000;
  console.log(`\n[rounds] ${params.toLocaleString('en')}-parameter model, 2 rounds each, devices over loopback Socket.IO in ${quick ? 2 : 4} processes`);
  // The device processes share this machine's cores with the coordinator, which deployed devices never do: the
  // "devices niced" rows run them at the lowest priority (nice 19), so that what /api/status waits for is the
  // coordinator's own work rather than the simulated devices' CPU. The other rows keep them at equal priority.
  // Compression rows (fp16, int8) are niced like their float32 row, to read next to it. Buffered rows: FedBuff
  // with a buffer of all the clients, so a "round" is one committed version; before = updates opened on the event
  // loop (updateWorkers 0), after = through the update pool; every buffered task also carries the model (400 KB).
  // CPU by thread (round 2): main = the event loop, workers = the update pool, other = V8's GC and compiler
  // helpers and libuv's pool (bench/coordinator/thread-cpu.ts). Loop: the coordinator's event-loop delay during the
  // rounds (monitorEventLoopDelay), p99 and max, and the number of stalls over 50 ms in its long-task log (LongTasks).
  console.log(
    '  clients  path                                     round s (r1, r2)  CPU ms/update (r1, r2)  r2 main/workers/other  devices r2  /api/status p50 / p99 ms  loop p99 / max ms (stalls > 50 ms)  bytes up/update  accepted     load',
  );
  // `--rows` takes group names (base, compression, buffered) or row keys (loop, pool, niced, fp16, int8, buffered-loop, buffered-pool).
  const variants: Array<{ group: string; key: string; spec: Partial<RunSpec>; path: string }> = [
    { group: 'base', key: 'loop', spec: { workers: 0 }, path: 'event loop (before)' },
    { group: 'base', key: 'pool', spec: { workers: after }, path: `${after} worker(s) (after)` },
    { group: 'base', key: 'niced', spec: { workers: after, fleetNice: 19 }, path: `${after} worker(s), devices niced` },
    { group: 'compression', key: 'fp16', spec: { workers: after, fleetNice: 19, compression: 'fp16' }, path: `${after} worker(s), devices niced, fp16` },
    { group: 'compression', key: 'int8', spec: { workers: after, fleetNice: 19, compression: 'int8' }, path: `${after} worker(s), devices niced, int8` },
    { group: 'buffered', key: 'buffered-loop', spec: { workers: 0, buffered: true }, path: 'buffered, event loop (before)' },
    { group: 'buffered', key: 'buffered-pool', spec: { workers: after, buffered: true }, path: `buffered, ${after} worker(s) (after)` },
  ];
  for (const clients of sizes) {
    for (const v of variants) {
      if (!groups.has(v.group) && !groups.has(v.key)) continue;
      const spec: RunSpec = { mode: 'round', clients, params, workers: after, rounds: 2, perFleet: Math.ceil(clients / (quick ? 2 : 4)), ...v.spec };
      const checkouts = baseline
        ? [
            { dir: baseline, tag: '[base] ' },
            { dir: here, tag: '[this] ' },
          ]
        : [{ dir: here, tag: '' }];
      const ratios: Array<{ cpu: number; main: number; late: number; other: number }> = [];
      for (let pair = 0; pair < (baseline ? pairs : 1); pair++) {
        const r2: Array<{ cpu: number; main: number; late: number; other: number } | undefined> = [];
        for (const c of checkouts) {
          const r = await run(spec, c.dir);
          const t = r?.cpuMsPerUpdateByThread.at(-1);
          r2.push(r && t ? { cpu: r.cpuMsPerUpdate.at(-1)!, main: t.main, late: t.late, other: t.other } : undefined);
          if (r) printRoundRow(clients, c.tag + v.path, r);
        }
        const [b, a] = r2;
        if (baseline && a && b) ratios.push({ cpu: a.cpu / b.cpu, main: a.main / b.main, late: a.late / b.late, other: a.other / b.other });
      }
      if (ratios.length > 0) {
        const m = (k: 'cpu' | 'main' | 'late' | 'other') => f(median(ratios.map((x) => x[k])), 2);
        console.log(
          `           this / base, round 2, median of ${ratios.length} pair(s): CPU per update ${m('cpu')} (main ${m('main')}, workers ${m('late')}, other ${m('other')})`,
        );
      }
    }
  }
}

/** One line of the rounds table. */
function printRoundRow(clients: number, path: string, r: RunResult): void {
  const t = r.cpuMsPerUpdateByThread.at(-1);
  console.log(
    [
      `  ${String(clients).padStart(7)}`,
      path.padEnd(40),
      r.roundMs
        .map((m) => f(m / 1000, 1))
        .join(', ')
        .padEnd(17),
      r.cpuMsPerUpdate
        .map((c) => f(c, 2))
        .join(', ')
        .padEnd(23),
      (t ? `${f(t.main, 2)} / ${f(t.late, 2)} / ${f(t.other, 2)}` : '').padEnd(22),
      f(r.deviceCpuMsPerUpdate?.at(-1) ?? NaN, 2).padEnd(11),
      `${f(median(r.statusMs), 0)} / ${f(quantile(r.statusMs, 0.99), 0)}`.padEnd(24),
      `${f(r.eventLoopMs.p99, 0)} / ${f(r.eventLoopMs.max, 0)}${r.longTasksUs ? ` (${r.longTasksUs.length})` : ''}`.padEnd(36),
      (r.bytesUpPerUpdate !== undefined ? r.bytesUpPerUpdate.toLocaleString('en') : '').padEnd(16),
      r.accepted.join(', ').padEnd(12),
      load(),
    ].join(' '),
  );
  if (r.stoppedEarly) console.log(`           (stopped early: ${r.stoppedEarly})`);
}

/**
 * Peak-RSS rows, unpaced (`uploadBudgetBytes: 0`, the path before upload pacing) then paced (the default budget):
 * one round (or, buffered, one version) of N light-device updates of `params` parameters per count.
 */
async function rssRows(o: { counts: number[]; unpacedCounts: number[]; params: number; buffered: boolean }): Promise<void> {
  for (const budget of [0, undefined]) {
    const rss: string[] = [];
    for (const clients of budget === 0 ? o.unpacedCounts : o.counts) {
      const r = await run({
        mode: 'round',
        ...(o.buffered ? { buffered: true } : {}),
        clients,
        params: o.params,
        workers: after,
        rounds: 1,
        perFleet: Math.ceil(clients / 2),
        ...(budget === 0 ? { uploadBudgetBytes: 0 } : {}),
      });
      if (!r) continue;
      rss.push(`${clients}: ${f(r.maxRssMB, 0)} MB (${f(r.roundMs[0]! / 1000, 1)} s, ${r.accepted[0]}/${clients})`);
    }
    console.log(`  ${(budget === 0 ? 'no pacing (before)' : 'paced, 64 MiB budget (after)').padEnd(30)} ${rss.join('   ')}   load ${load()}`);
  }
}

// 4. Peak RSS against the number of 1M-parameter updates in a round: without upload pacing (main's path before
// it: every device uploads as soon as it has trained, and Socket.IO reads each 4 MB packet whole before the
// update pool's in-flight bound can hold it back) and with it (devices send once granted an upload slot).
if (runs('rss')) {
  const counts = quick ? [10, 50, 100] : [10, 100, 1000];
  // Unpaced, 1,000 devices would have 4 GB of updates in flight at once on a 2-core machine shared by others: not run.
  const unpacedCounts = quick ? counts : [10, 100];
  const params = 1_000_000;
  console.log(
    `\n[peak RSS] one round of N updates of ${params.toLocaleString('en')} parameters (4 MB each), ${after} update worker(s), light devices in 2 processes; coordinator peak RSS (round s, accepted)`,
  );
  await rssRows({ counts, unpacedCounts, params, buffered: false });
}

// 4b. The same burst in buffered mode (`--only rss-buffered`): every device is handed a fit task at once and
// answers as soon as it has trained; one version commits after N updates. Unpaced is buffered mode before it
// used upload slots; paced is now (the same slot protocol and 64 MiB default budget as sync rounds).
if (runs('rss-buffered')) {
  const counts = quick ? [10, 50] : [10, 100];
  const params = 1_000_000;
  console.log(
    `\n[peak RSS, buffered mode] one version of N updates of ${params.toLocaleString('en')} parameters (4 MB each; every task also carries the 4 MB model), light devices in 2 processes; coordinator peak RSS (s to the version, accepted)`,
  );
  await rssRows({ counts, unpacedCounts: counts, params, buffered: true });
}

// 5. Idle connected clients: the coordinator's memory per connection.
if (runs('idle')) {
  const clients = quick ? 1_000 : 10_000;
  // Authenticated sessions (signed handshake, welcomed), light devices in 4 processes (light-device.ts).
  const r = await run({ mode: 'idle', clients, params: 1000, workers: after, rounds: 1, perFleet: Math.ceil(clients / 4) });
  if (r)
    console.log(
      `\n[idle] ${clients.toLocaleString('en')} connected clients: ${f(r.perClientKB!, 1)} KB per client (RSS growth after gc; V8 heap ${f(r.perClientHeapKB!, 1)} KB of it), /api/status p50 / p99 ${f(median(r.statusMs), 0)} / ${f(quantile(r.statusMs, 0.99), 0)} ms while they connected, load ${load()}`,
    );
}
