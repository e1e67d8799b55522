// `npm run bench -- coordinator [--quick]`: the coordinator's update path, before (everything on the event
// loop, tweetnacl bulk) and after (update workers, AES-256-GCM bulk) in one run. Figures are medians from
// this run on this machine as it is; the load average is printed with them.
import { fork } from 'node:child_process';
import { loadavg, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';
import { UpdateAccumulator } from '@fedrec/coordinator';
import { FLOAT32_BLOCK } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { defaultUpdateWorkers } from '@fedrec/coordinator/update-pool/update-pool.js';
import { EnvelopeOpener, EnvelopeSealer, generateKeyPair, type WeightManifest } from '@fedrec/protocol';
import type { RunResult, RunSpec } from './coordinator/coordinator-run.js';

const quick = process.argv.includes('--quick');
// `--only accumulate|aead|rounds|rss|idle`: one section (the others take minutes on a shared machine).
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

async function timeMedianAsync(reps: number, fn: () => Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

console.log(
  `bench coordinator${quick ? ' --quick' : ''}: ${availableParallelism()} cores, update workers by default ${defaultUpdateWorkers()}, load average ${load()}`,
);

// 1. Accumulate vs memcpy, on the same 10M-float vectors. One timing covers FLOAT32_BLOCK adds and the
// flush into float64 that ends the block, so the figure is the amortized cost per update.
if (runs('accumulate')) {
  const n = quick ? 2_000_000 : 10_000_000;
  const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [n], dtype: 'float32', shared: true }] };
  const delta = Float32Array.from({ length: n }, (_, i) => ((i % 101) - 50) / 1024);
  const copy = new Float32Array(n);
  const before = new UpdateAccumulator(manifest, { kernel: 'float64' });
  const after = new UpdateAccumulator(manifest);
  const block = (acc: UpdateAccumulator) => () => {
    for (let k = 0; k < FLOAT32_BLOCK; k++) acc.add(3, delta, undefined);
    void acc.sums.contributors; // reading the sums flushes a pending block
  };
  const memcpyMs = timeMedian(9, () => copy.set(delta));
  const beforeMs = timeMedian(3, block(before)) / FLOAT32_BLOCK;
  const afterMs = timeMedian(5, block(after)) / FLOAT32_BLOCK;
  const memcpyAfterMs = timeMedian(9, () => copy.set(delta));
  const gbps = (ms: number) => (n * 4) / 1e9 / (ms / 1e3);
  console.log(
    `\n[accumulate] ${n / 1e6}M floats; memcpy median of 9 before and after the accumulators; per update over blocks of ${FLOAT32_BLOCK} (load ${load()})`,
  );
  console.log(`  Float32Array.set (memcpy)   ${f(gbps(memcpyMs))} GB/s, then ${f(gbps(memcpyAfterMs))} GB/s`);
  const ref = Math.min(memcpyMs, memcpyAfterMs);
  console.log(`  float64 loop (before)       ${f(gbps(beforeMs))} GB/s   ratio to the faster memcpy ${f(ref / beforeMs)}`);
  console.log(`  float32 SIMD blocks (after) ${f(gbps(afterMs))} GB/s   ratio to the faster memcpy ${f(ref / afterMs)}`);
}

// 2. Bulk sealing: AES-256-GCM (this version) vs tweetnacl's box with the session key agreed (protocol 2's steady state).
if (runs('aead')) {
  const bytes = quick ? 1 << 20 : 4 << 20;
  const plaintext = nacl.randomBytes(bytes);
  const key = generateKeyPair();
  const binding = { roundId: 1, clientId: 'c', taskId: 't', modelVersion: 0 };
  const sealer = new EnvelopeSealer(key.publicKey);
  const opener = new EnvelopeOpener(key.secretKey);
  const sample = await sealer.seal(plaintext, binding);
  await opener.open(sample, binding);
  const aesSeal = await timeMedianAsync(7, () => sealer.seal(plaintext, binding));
  const aesOpen = await timeMedianAsync(7, () => opener.open(sample, binding));
  const sender = nacl.box.keyPair();
  const shared = nacl.box.before(key.publicKey, sender.secretKey);
  const nonce = nacl.randomBytes(24);
  const boxed = nacl.box.after(plaintext, nonce, shared);
  const naclSeal = timeMedian(3, () => nacl.box.after(plaintext, nonce, shared));
  const naclOpen = timeMedian(3, () => nacl.box.open.after(boxed, nonce, shared));
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1e3);
  console.log(`\n[bulk AEAD] ${bytes >> 20} MiB messages, session key cached (load ${load()})`);
  console.log(`  tweetnacl box (before)      seal ${f(mbps(naclSeal), 0)} MB/s   open ${f(mbps(naclOpen), 0)} MB/s`);
  console.log(`  AES-256-GCM (after)         seal ${f(mbps(aesSeal), 0)} MB/s   open ${f(mbps(aesOpen), 0)} MB/s`);
  console.log(`  ratio                       seal ${f(naclSeal / aesSeal, 1)}x   open ${f(naclOpen / aesOpen, 1)}x`);
}

/** One measured coordinator run; a failed run prints why and yields undefined (the other figures still come). */
async function run(spec: RunSpec): Promise<RunResult | undefined> {
  try {
    return await runOnce(spec);
  } catch (err) {
    console.log(`  (run ${JSON.stringify(spec)} failed: ${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

function runOnce(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'coordinator', 'coordinator-run.ts'), [JSON.stringify(spec)], {
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
if (runs('rounds')) {
  const sizes = quick ? [100, 500] : [1000, 5000];
  const params = 100_000;
  console.log(`\n[rounds] ${params.toLocaleString('en')}-parameter model, 2 rounds each, devices over loopback Socket.IO in ${quick ? 2 : 4} processes`);
  console.log('  clients  path                 round s (r1, r2)   CPU ms/update   /api/status p50 / p99 ms   event loop p99 ms   accepted   load');
  for (const clients of sizes) {
    for (const workers of [0, after]) {
      const r = await run({ mode: 'round', clients, params, workers, rounds: 2, perFleet: Math.ceil(clients / (quick ? 2 : 4)) });
      if (!r) continue;
      const path = workers === 0 ? 'event loop (before)' : `${workers} worker(s) (after)`;
      console.log(
        `  ${String(clients).padStart(7)}  ${path.padEnd(20)} ${r.roundMs
          .map((m) => f(m / 1000, 1))
          .join(', ')
          .padEnd(18)} ${r.cpuMsPerUpdate
          .map((c) => f(c, 2))
          .join(', ')
          .padEnd(
            15,
          )} ${`${f(median(r.statusMs), 0)} / ${f(quantile(r.statusMs, 0.99), 0)}`.padEnd(26)} ${f(r.eventLoopMs.p99, 0).padEnd(19)} ${r.accepted.join(', ').padEnd(10)} ${load()}`,
      );
    }
  }
}

// 4. Peak RSS against the number of 1M-parameter updates in a round.
if (runs('rss')) {
  const counts = quick ? [10, 50, 100] : [10, 100, 1000];
  const params = 1_000_000;
  console.log(`\n[peak RSS] one round of N updates of ${params.toLocaleString('en')} parameters (4 MB each)`);
  for (const workers of [0, after]) {
    const rss: string[] = [];
    for (const clients of counts) {
      const r = await run({ mode: 'round', clients, params, workers, rounds: 1, perFleet: Math.ceil(clients / 2) });
      if (!r) continue;
      rss.push(`${clients}: ${f(r.maxRssMB, 0)} MB (${f(r.roundMs[0]! / 1000, 1)} s)`);
    }
    console.log(`  ${(workers === 0 ? 'event loop (before)' : `${workers} worker(s) (after)`).padEnd(20)} ${rss.join('   ')}   load ${load()}`);
  }
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
