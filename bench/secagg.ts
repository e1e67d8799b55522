/**
 * Secure aggregation benchmark: one in-process round of plain sealed FedAvg vs SecAgg vs SecAgg+.
 *   npx tsx bench/secagg.ts [--clients 100,500] [--params 100000] [--reps 3] [--dropout 0.05] [--modes plain,secagg,secagg+]
 * Client work runs on many devices in parallel in reality, so besides the in-process total we report
 * server time, per-client time (median and max) and a "parallel round" = slowest client + server.
 * Bytes are payload bytes (binary fields plus their JSON envelope); the model broadcast, the same in
 * every mode, is left out. Training time is left out too.
 */
import { Command } from 'commander';
import { decodeUpdatePayload, encodeUpdatePayload, generateKeyPair, open, seal } from '../protocol/index.js';
import type { WeightManifest } from '../protocol/weights.js';
import {
  contributionLayout,
  decodeAggregate,
  encodeContribution,
  expandMask,
  parseSecAggConfig,
  roundInfeasibility,
  runInMemoryRound,
  type ClientContribution,
  type SecAggConfig,
} from '../secagg/index.js';

const program = new Command()
  .option('--clients <list>', 'client counts', '100,500')
  .option('--params <n>', 'parameters per delta', '100000')
  .option('--reps <n>', 'repetitions (median reported)', '3')
  .option('--dropout <f>', 'fraction of clients that drop after sharing keys', '0')
  .option('--modes <list>', 'plain,secagg,secagg+', 'plain,secagg,secagg+')
  .parse();
const opts = program.opts<{ clients: string; params: string; reps: string; dropout: string; modes: string }>();
const clientCounts = opts.clients.split(',').map(Number);
const params = Number(opts.params);
const reps = Number(opts.reps);
const dropout = Number(opts.dropout);
const modes = opts.modes.split(',') as Array<'plain' | 'secagg' | 'secagg+'>;

interface RoundFigures {
  totalMs: number;
  serverMs: number;
  clientMedianMs: number;
  clientMaxMs: number;
  uploadBytes: number;
  downloadBytes: number;
  maxError: number;
}

/** Approximate wire size: binary attachments count their bytes, everything else its JSON length. */
function wireBytes(v: unknown): number {
  if (v instanceof Uint8Array) return v.byteLength + 2;
  if (v === null || v === undefined) return 4;
  if (typeof v === 'string') return v.length + 2;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v).length;
  if (Array.isArray(v)) return 2 + v.reduce((n: number, x) => n + wireBytes(x) + 1, 0);
  if (v instanceof Map) return wireBytes(Object.fromEntries(v));
  return 2 + Object.entries(v as Record<string, unknown>).reduce((n, [k, x]) => n + k.length + 4 + wireBytes(x), 0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function makeClients(n: number, seed: number): Map<string, ClientContribution> {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Map<string, ClientContribution>();
  for (let i = 0; i < n; i++) {
    const delta = new Float32Array(params);
    for (let j = 0; j < params; j++) delta[j] = (rand() - 0.5) * 0.1;
    out.set(`client-${String(i).padStart(4, '0')}`, { numExamples: 1 + Math.floor(rand() * 200), delta });
  }
  return out;
}

function plainWeightedMean(cs: Map<string, ClientContribution>, only: (id: string) => boolean): Float64Array {
  const sum = new Float64Array(params);
  let w = 0;
  for (const [id, c] of cs) {
    if (!only(id)) continue;
    w += c.numExamples;
    for (let j = 0; j < params; j++) sum[j]! += c.numExamples * c.delta[j]!;
  }
  return sum.map((x) => x / w);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Sealed FedAvg as the project does it without secagg: seal the update payload, open and sum on the server. */
function plainRound(cs: Map<string, ClientContribution>, dropped: Set<string>): RoundFigures {
  const t0 = performance.now();
  const coordinator = generateKeyPair();
  const clientMs: number[] = [];
  const uploads: number[] = [];
  let serverMs = 0;
  const sum = new Float64Array(params);
  let weight = 0;
  for (const [id, c] of cs) {
    if (dropped.has(id)) continue;
    const binding = { roundId: 1, clientId: id, taskId: 't1', modelVersion: 1 };
    let t = performance.now();
    const envelope = seal(encodeUpdatePayload({ numExamples: c.numExamples, metrics: { loss: 0.5 }, delta: c.delta }), binding, coordinator.publicKey);
    clientMs.push(performance.now() - t);
    uploads.push(wireBytes({ envelope }));
    t = performance.now();
    const payload = decodeUpdatePayload(open(envelope, binding, coordinator.secretKey));
    weight += payload.numExamples;
    for (let j = 0; j < params; j++) sum[j]! += payload.numExamples * payload.delta[j]!;
    serverMs += performance.now() - t;
  }
  const result = sum.map((x) => x / weight);
  return {
    totalMs: performance.now() - t0,
    serverMs,
    clientMedianMs: median(clientMs),
    clientMaxMs: Math.max(...clientMs),
    uploadBytes: mean(uploads),
    downloadBytes: 0,
    maxError: maxDiff(result, plainWeightedMean(cs, (id) => !dropped.has(id))),
  };
}

async function secaggRound(cs: Map<string, ClientContribution>, dropped: Set<string>, config: SecAggConfig): Promise<RoundFigures> {
  const manifest: WeightManifest = { tensors: [{ name: 'dense', shape: [params], dtype: 'float32', shared: true }] };
  const layout = contributionLayout(manifest);
  const t0 = performance.now();
  const clientMs = new Map<string, number>();
  const up = new Map<string, number>();
  const down = new Map<string, number>();
  const add = (m: Map<string, number>, id: string, x: number) => m.set(id, (m.get(id) ?? 0) + x);
  const inputs = new Map<string, Uint32Array>();
  for (const [id, c] of cs) {
    const t = performance.now();
    inputs.set(id, encodeContribution(c, layout, config));
    add(clientMs, id, performance.now() - t);
  }
  let serverMs = 0;
  const { outcome } = await runInMemoryRound({
    roundId: 1,
    config,
    inputs,
    validate: true,
    dropBefore: { 'masked-input': dropped },
    observer: {
      clientStep: (id, _stage, ms, sent, received) => {
        add(clientMs, id, ms);
        add(up, id, wireBytes(sent));
        add(down, id, wireBytes(received));
      },
      serverStep: (_stage, ms) => void (serverMs += ms),
    },
  });
  if (outcome.status !== 'completed') throw new Error(`round abandoned: ${outcome.reason}`);
  const t = performance.now();
  const sums = decodeAggregate(outcome.sum, outcome.contributors.length, layout, config);
  const result = sums.weightedDeltaSum.map((x) => x / sums.weightSum);
  serverMs += performance.now() - t;
  const survivors = [...cs.keys()].filter((id) => !dropped.has(id));
  const times = survivors.map((id) => clientMs.get(id)!);
  return {
    totalMs: performance.now() - t0,
    serverMs,
    clientMedianMs: median(times),
    clientMaxMs: Math.max(...times),
    uploadBytes: mean(survivors.map((id) => up.get(id)!)),
    downloadBytes: mean(survivors.map((id) => down.get(id)!)),
    maxError: maxDiff(result, plainWeightedMean(cs, (id) => !dropped.has(id))),
  };
}

function prgThroughputMBs(): number {
  const seed = new Uint8Array(32).fill(7);
  for (let i = 0; i < 20; i++) expandMask(seed, params);
  const start = performance.now();
  let bytes = 0;
  while (performance.now() - start < 500) {
    expandMask(seed, params);
    bytes += 4 * params;
  }
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

const fmtMs = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const fmtKB = (x: number) => `${(x / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const prg = prgThroughputMBs();
  console.log(`ChaCha20 mask PRG: ${prg.toFixed(0)} MB/s (${params} words per mask expansion)`);
  console.log(`params=${params}, reps=${reps}, dropout after share keys=${dropout}\n`);
  for (const n of clientCounts) {
    const cs = makeClients(n, n);
    const ids = [...cs.keys()];
    const dropped = new Set(ids.slice(0, Math.round(dropout * n)));
    const rows: Array<[string, RoundFigures]> = [];
    for (const mode of modes) {
      const config = mode === 'plain' ? null : parseSecAggConfig({ mode, clipRange: 0.1, maxWeight: 256 });
      if (config) {
        const why = roundInfeasibility(config, n);
        if (why) {
          const estimateS = (n * (n - 1) * 4 * params) / (prg * 1e6);
          const perClientS = ((n - 1) * 4 * params) / (prg * 1e6);
          console.log(
            `  ${mode} @ ${n} clients: not run — ${why}.\n  (All-pairs masks alone would be n(n-1)·params PRG words ≈ ${estimateS.toFixed(0)} s in one process, ${perClientS.toFixed(2)} s per client.)`,
          );
          continue;
        }
      }
      // One small untimed round first so the JIT has compiled every path.
      const warm = new Map([...cs].slice(0, 8));
      if (config) await secaggRound(warm, new Set(), config);
      else plainRound(warm, new Set());
      const figures: RoundFigures[] = [];
      for (let r = 0; r < reps; r++) figures.push(config ? await secaggRound(cs, dropped, config) : plainRound(cs, dropped));
      const pick = (k: keyof RoundFigures) => median(figures.map((f) => f[k]));
      rows.push([
        mode,
        {
          totalMs: pick('totalMs'),
          serverMs: pick('serverMs'),
          clientMedianMs: pick('clientMedianMs'),
          clientMaxMs: pick('clientMaxMs'),
          uploadBytes: pick('uploadBytes'),
          downloadBytes: pick('downloadBytes'),
          maxError: Math.max(...figures.map((f) => f.maxError)),
        },
      ]);
    }
    const plain = rows.find(([m]) => m === 'plain')?.[1];
    console.log(`== ${n} clients ==`);
    console.table(
      Object.fromEntries(
        rows.map(([mode, f]) => {
          const parallel = f.clientMaxMs + f.serverMs;
          const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(2)}×` : '-');
          return [
            mode,
            {
              'in-process total': fmtMs(f.totalMs),
              server: fmtMs(f.serverMs),
              'client median': fmtMs(f.clientMedianMs),
              'client max': fmtMs(f.clientMaxMs),
              'parallel round (max client + server)': fmtMs(parallel),
              'vs plain (parallel)': ratio(parallel, plain ? plain.clientMaxMs + plain.serverMs : undefined),
              'vs plain (in-process)': ratio(f.totalMs, plain?.totalMs),
              upload: fmtKB(f.uploadBytes),
              'upload vs plain': ratio(f.uploadBytes, plain?.uploadBytes),
              download: fmtKB(f.downloadBytes),
              'max |mean error|': f.maxError.toExponential(1),
            },
          ];
        }),
      ),
    );
  }
}

await main();
