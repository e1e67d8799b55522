// One measured coordinator, in its own process (so its peak RSS and CPU are its own), for bench/coordinator.ts.
// argv[2] is a JSON RunSpec; the result is one JSON line on stdout prefixed with RESULT.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createCoordinator } from '@fedrec/coordinator';
import { DEFAULT_HEAP_GROWING_PERCENT, setHeapGrowingPercent } from '@fedrec/coordinator/heap-growth.js';
import type { Compression, WeightManifest } from '@fedrec/protocol';
import { LongTasks } from './long-tasks.js';
import { processCpuMs, splitThreads, threadCpuMs, type ThreadSplit } from './thread-cpu.js';

export interface RunSpec {
  mode: 'round' | 'idle';
  clients: number;
  params: number;
  /** Update workers (0 = everything on the event loop: the "before"). */
  workers: number;
  rounds: number;
  /** Devices per fleet process. */
  perFleet: number;
  /** Upload pacing budget (coordinator option uploadBudgetBytes; 0 = no pacing); unset = the coordinator's default. */
  uploadBudgetBytes?: number;
  /** Buffered (FedBuff) mode with a buffer of `clients` updates: each "round" is one committed version. */
  buffered?: boolean;
  /**
   * Scheduling priority of the device processes (os.setPriority, 0-19; unset = the same as the coordinator).
   * In a deployment devices run on their own hardware; on this shared machine they compete with the coordinator
   * for its cores, and a niced fleet keeps their CPU from reading as the coordinator's latency.
   */
  fleetNice?: number;
  /**
   * The run's compression (coordinator option `compression`): the devices pre-encode their delta with the same
   * codec (protocol/compression.ts), as an SDK device obeying the task would. Unset = 'none' (float32).
   */
  compression?: Compression;
  /**
   * Write a sampling heap profile of the main thread's last round to this file (.heapprofile, DevTools' format):
   * V8's sampling profiler through the inspector, keeping the objects that GC collected during the round, so the
   * garbage of each update shows by allocation site (bench/coordinator/heap-sites.ts reads it). ArrayBuffer
   * backing stores live outside the V8 heap and are not in it; only their JavaScript wrappers are.
   */
  heapProfile?: string;
  /** The heap growing percent the CLI sets (coordinator/heap-growth.ts); unset = the CLI's default, 0 = V8's own. */
  heapGrowingPercent?: number;
}

export interface RunResult {
  roundMs: number[];
  cpuMsPerUpdate: number[];
  /**
   * The same per round, split by thread (Linux /proc): the event loop (main), the update workers (threads
   * started after the coordinator was up) and the rest (V8's GC and compiler helpers, libuv's pool).
   */
  cpuMsPerUpdateByThread: ThreadSplit[];
  /**
   * The simulated devices' CPU per update in each round (all fleet processes: training stand-in, sealing,
   * Socket.IO): on this machine they share the coordinator's cores, which deployed devices never do. Absent from
   * the runs of an older checkout (bench/coordinator.ts --baseline).
   */
  deviceCpuMsPerUpdate?: number[];
  accepted: number[];
  statusMs: number[];
  maxRssMB: number;
  /** The coordinator's event-loop delay during the rounds (idle mode: while clients connected), p50 and p99 in ms. */
  eventLoopMs: { p50: number; p99: number; max: number };
  /** Idle mode: RSS growth per connected client after gc, in KB. */
  perClientKB?: number;
  /** Idle mode: V8 heap growth per connected client after gc, in KB (part of the RSS growth). */
  perClientHeapKB?: number;
  /** From forking the device processes to every device welcomed and keyed (handshakes: signature checks, welcome). */
  connectMs?: number;
  /**
   * Each round's [start, end] on the monotonic clock in µs (process.hrtime), the clock of `--cpu-prof`
   * profiles' timestamps: to read a profile of the rounds alone (bench/coordinator/profile-window.ts).
   */
  roundWindowsUs: Array<[number, number]>;
  /**
   * The rounds' event-loop stalls over 50 ms, each [start, end] on the same clock as roundWindowsUs (LongTasks):
   * profile-window.ts names what ran in them. Absent from the runs of an older checkout.
   */
  longTasksUs?: Array<[number, number]>;
  /** Sealed bytes each device sends per update (the fleets' pre-encoded payload plus the AEAD tag). */
  bytesUpPerUpdate?: number;
  /** Set when clients dropped (ping timeouts on a loaded machine) and the next round could never start. */
  stoppedEarly?: string;
}

const spec = JSON.parse(process.argv[2]!) as RunSpec;
// What the service runs with (apps/coordinator-cli/cli.ts sets it before creating the coordinator).
setHeapGrowingPercent(spec.heapGrowingPercent ?? DEFAULT_HEAP_GROWING_PERCENT);
const here = fileURLToPath(new URL('.', import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc;
const dir = await mkdtemp(join(tmpdir(), 'fedrec-bench-coord-'));
const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [spec.params], dtype: 'float32', shared: true }] };
const coordinator = createCoordinator({
  port: 0,
  host: '127.0.0.1',
  modelSpec: { name: 'bench', options: {} },
  initialWeights: { manifest, body: new Float32Array(spec.params) },
  checkpointDir: dir,
  minClients: spec.mode === 'idle' ? spec.clients + 1 : spec.clients,
  clientsPerRound: 'all',
  minResults: 1,
  rounds: spec.rounds,
  roundTimeoutMs: 600_000,
  roundIntervalMs: 0,
  evaluateEvery: 0,
  maxConnectionsPerAddress: 0,
  maxHandshakesPerSecond: 0,
  // Thousands of handshakes queue up on a loaded machine: the default 10 s would disconnect the last ones.
  handshakeTimeoutMs: 600_000,
  logLinesPerClientPerMinute: 0,
  maxUpdateBytes: spec.params * 4 + 4096,
  updateWorkers: spec.workers,
  ...(spec.uploadBudgetBytes !== undefined ? { uploadBudgetBytes: spec.uploadBudgetBytes } : {}),
  ...(spec.buffered ? { mode: 'buffered' as const, buffered: { bufferSize: spec.clients } } : {}),
  ...(spec.compression ? { compression: spec.compression } : {}),
});
const { url } = await coordinator.start();

const result: RunResult = {
  roundMs: [],
  cpuMsPerUpdate: [],
  cpuMsPerUpdateByThread: [],
  deviceCpuMsPerUpdate: [],
  roundWindowsUs: [],
  accepted: [],
  statusMs: [],
  maxRssMB: 0,
  eventLoopMs: { p50: 0, p99: 0, max: 0 },
};
// Event-loop delay: what a request arriving at a random moment waits before the coordinator can look at it.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const longTasks = new LongTasks();
if (spec.mode === 'idle') loopDelay.enable();
const fleets: ChildProcess[] = [];
const fleetCount = Math.ceil(spec.clients / spec.perFleet);
let closing = false;

gc?.();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
const sampler = fork(join(here, 'status-sampler.ts'), [url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

let roundStart = 0;
let roundStartAt = 0;
let roundStartUs = 0;
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const windows: Array<[number, number]> = [];
let cpuStart = process.cpuUsage();
// Threads running before any round: the main thread and the platform's; the update pool starts with round 1.
const knownThreads = new Set(threadCpuMs().keys());
let threadsStart = threadCpuMs();
const fleetCpuMs = (): number => fleets.reduce((sum, f) => sum + (f.pid === undefined ? 0 : processCpuMs(f.pid)), 0);
let fleetStart = 0;
const heapSampler = spec.heapProfile ? await startHeapSampler() : undefined;
const markStart = (): void => {
  if (heapSampler && result.roundMs.length === spec.rounds - 1) void heapSampler.start();
  roundStart = performance.now();
  roundStartAt = Date.now();
  roundStartUs = nowUs();
  cpuStart = process.cpuUsage();
  threadsStart = threadCpuMs();
  fleetStart = fleetCpuMs();
  loopDelay.enable();
  longTasks.start();
};
// Buffered mode opens the next buffer (its round:started) while the previous one is still being committed, so
// its versions are timed commit to commit: the first from its round:started, each next from the commit before.
let started = false;
coordinator.on('round:started', () => {
  if (spec.buffered && started) return;
  started = true;
  markStart();
});
const finished = new Promise<void>((resolve) => {
  coordinator.on('round:committed', (record: { participants: string[] }) => {
    const cpu = process.cpuUsage(cpuStart);
    const split = splitThreads(threadsStart, threadCpuMs(), knownThreads);
    const fleetMs = fleetCpuMs() - fleetStart;
    loopDelay.disable();
    longTasks.stop();
    result.roundMs.push(performance.now() - roundStart);
    windows.push([roundStartAt, Date.now()]);
    result.roundWindowsUs.push([roundStartUs, nowUs()]);
    result.accepted.push(record.participants.length);
    const n = Math.max(1, record.participants.length);
    result.cpuMsPerUpdate.push((cpu.user + cpu.system) / 1000 / n);
    result.deviceCpuMsPerUpdate!.push(fleetMs / n);
    const round2 = (x: number): number => Math.round(x * 100) / 100;
    result.cpuMsPerUpdateByThread.push({
      main: round2(split.main / n),
      late: round2(split.late / n),
      other: round2(split.other / n),
      // Minor page faults per update (each costs tens of µs on this VM: it hands freed pages back to its host).
      faults: { main: round2(split.faults.main / n), late: round2(split.faults.late / n), other: round2(split.faults.other / n) },
    });
    if (spec.buffered) markStart();
    if (result.roundMs.length >= spec.rounds) return resolve();
    // The next round waits for all `clients` (minClients): if some dropped it would wait forever. Stop with
    // the rounds measured and say so, instead of hanging the bench.
    const connected = coordinator.status().connectedClients;
    if (connected < spec.clients) {
      result.stoppedEarly = `after round ${result.roundMs.length}: ${connected} of ${spec.clients} clients still connected`;
      resolve();
    }
  });
});

/** The main thread's sampling heap profiler (spec.heapProfile), started at the last round and written at its end. */
async function startHeapSampler(): Promise<{ start(): Promise<void>; write(file: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  return {
    start: async () => {
      // 32 KiB mean interval: a few thousand samples per 1,000-update round, at a cost the round does not notice.
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 32_768,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    },
    write: async (file) => {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await writeFile(file, JSON.stringify(profile));
    },
  };
}

const connectStart = performance.now();
await Promise.all(
  Array.from({ length: fleetCount }, (_, f) => {
    const n = Math.min(spec.perFleet, spec.clients - f * spec.perFleet);
    const child = fork(join(here, 'fleet.ts'), [url, String(n), `f${f}`, String(spec.params), spec.compression ?? 'none'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (spec.fleetNice !== undefined && child.pid !== undefined) setPriority(child.pid, spec.fleetNice);
    fleets.push(child);
    // A fleet that dies would leave the round waiting until its deadline: stop the run with its exit code instead.
    child.on('exit', (code) => {
      if (code !== 0 && !closing) {
        console.error(`fleet ${f} exited with ${code}`);
        process.exit(1);
      }
    });
    return new Promise<void>((resolve, reject) =>
      child.on('message', (m: { connected?: number; bytesUp?: number; error?: string }) => {
        if (m.error) return reject(new Error(m.error));
        if (m.bytesUp !== undefined) result.bytesUpPerUpdate = m.bytesUp;
        if (m.connected !== undefined) resolve();
      }),
    );
  }),
);

result.connectMs = performance.now() - connectStart;
if (spec.mode === 'idle') {
  await new Promise((r) => setTimeout(r, 2_000));
  gc?.();
  loopDelay.disable();
  const mem = process.memoryUsage();
  result.perClientKB = (mem.rss - rssBefore) / 1024 / spec.clients;
  result.perClientHeapKB = (mem.heapUsed - heapBefore) / 1024 / spec.clients;
} else {
  await finished;
  if (heapSampler && spec.heapProfile) await heapSampler.write(spec.heapProfile);
}
const latencies = await new Promise<Array<[number, number]>>((resolve) => {
  sampler.once('message', (m: { latencies: Array<[number, number]> }) => resolve(m.latencies));
  sampler.send('stop');
});
// Only requests made while a round ran (idle mode: all of them, while the clients were connected).
result.statusMs = latencies.filter(([at]) => spec.mode === 'idle' || windows.some(([a, b]) => at >= a && at <= b)).map(([, ms]) => ms);
result.maxRssMB = process.resourceUsage().maxRSS / 1024;
result.longTasksUs = longTasks.windowsUs;
result.eventLoopMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
closing = true;
for (const f of fleets) f.send('close');
await coordinator.stop();
await rm(dir, { recursive: true, force: true });
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
