/**
 * Secure aggregation benchmark: one in-process round of plain sealed FedAvg vs SecAgg vs SecAgg+.
 *   npx tsx bench/secagg.ts [--clients 100,1000] [--params 100000] [--reps 3] [--reps-large 1] [--dropout 0,0.1,0.3]
 *                           [--modes plain,secagg,secagg+] [--harness workers,in-process] [--client-heap own,shared]
 *                           [--clock cpu|thread|wall] [--coordinator-heap-growing-percent 300]
 * --dropout is a list: each n runs once per fraction of clients dropping after share keys. secagg+ uses the
 * config's 'auto' neighbours and threshold (Bell et al., sized for dropoutRate 0.3: secagg/parameters.ts); an
 * abandoned round is reported as such (with its reason), not thrown.
 *
 * Round time is the round's critical path, not the in-process total. In a deployment every client computes on its
 * own device at the same time, so one process running all clients one after another would report the SUM of their
 * work. Instead each client's work is timed per stage and the round time is
 *   Σ over stages (slowest client's compute in that stage + the coordinator's compute in that stage),
 * with the coordinator's work (accepting every message, closing every stage, unmasking, decoding, averaging)
 * counted in full and none of it overlapped with client work: an upper bound on the compute critical path. Network
 * time and training are left out (the same in every mode). Plain is measured the same way: slowest client's
 * encode + seal, plus the coordinator opening, decoding, validating, bounding (the service's default update policy:
 * --harness workers) and accumulating every update and averaging.
 * --harness workers (default) runs the simulated clients in a worker thread with its own heap
 * (bench/secagg/client-host.ts) and the coordinator in the main thread, strictly in turn, and times every step in
 * process CPU time: a client step is charged with that client's work and the collection of the clients' heap, a
 * coordinator step with its own work and heap, never with the other side's (bench/secagg/cpu-clock.ts).
 * --client-heap own,shared (default: both, one after the other in each row, each against its own plain round) says how a
 * client step is charged for collections of the one heap all simulated clients share (bench/secagg/client-host.ts,
 * ClientHeap): own, as a device with its own heap would pay (the others' garbage collected untimed before the step,
 * its own collected and timed after it; the sides idle until the process is quiet between turns), or shared, the
 * old accounting (whatever collection falls in the step; a fixed 15 ms idle between turns).
 * --harness in-process is the old one-heap harness, timed with --clock:
 * --clock cpu (default) times steps in process CPU time (user + system, so other jobs on a loaded machine do not
 * inflate one client's step; it includes V8's helper threads); --clock thread in the main thread's CPU time only
 * (Linux; leaves out the helper threads' garbage collection of all simulated clients' heaps, see threadClock);
 * --clock wall uses performance.now().
 * Bytes are Socket.IO payload bytes as sent: JSON text (binary fields as placeholders) plus the binary
 * attachments; secagg stage messages are counted packed, as the wire carries them (protocol/packed.ts). The model
 * broadcast, the same in every mode, is left out.
 * Full SecAgg above 255 clients cannot run (GF(2^8) Shamir: a configuration error naming secagg+). For those
 * rows the benchmark measures one client's work on a sample (real X25519 agreements, share sealing/opening and
 * mask expansion against n-1 peers), the server's vector work in full (n masked inputs summed, n self masks
 * removed), and scales the Shamir split/combine measured at 255 shares by (n/255)²; it says so in the output.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Command } from 'commander';
import { nativeCrypto } from '@fedrec/secagg/native-crypto.js';
import { nativeKeystream, nativeKeystreamStatus } from '@fedrec/secagg/native-keystream.js';
import { decodeUpdatePayload, encodeUpdatePayload, EnvelopeOpener, EnvelopeSealer, generateKeyPair } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol/weights.js';
import {
  addMask,
  agreeKey,
  combineShares,
  generateKeyPair as generateMaskKeyPair,
  sealShares,
  openShares,
  splitSecret,
  thresholdFor,
  contributionLayout,
  decodeAggregate,
  encodeContribution,
  expandMask,
  roundInfeasibility,
  neighbourCount,
  runInMemoryRound,
  useWordSumKernel,
  WordSum,
  type ClientContribution,
} from '@fedrec/secagg';
import { parseSecAggConfig, type SecAggConfig } from '@fedrec/protocol';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { averageDelta } from '@fedrec/coordinator/strategy/fedavg-math.js';
import { DEFAULT_HEAP_GROWING_PERCENT } from '@fedrec/coordinator/heap-growth.js';
import { ClientPool } from './secagg/client-pool.js';
import type { ClientHeap } from './secagg/client-host.js';
import { clientContribution, clientId } from './secagg/population.js';
import { criticalPath, maxDiff, mean, median, packedBytes, trainingForAim, wireBytes, type RoundFigures } from './secagg/round-figures.js';
import { processCpuMs } from './secagg/cpu-clock.js';
import { threadClock } from './secagg/thread-clock.js';
import { plainRoundInWorkers, secaggRoundInWorkers } from './secagg/worker-rounds.js';

const program = new Command()
  .option('--clients <list>', 'client counts', '100,1000')
  .option('--params <n>', 'parameters per delta', '100000')
  .option('--reps <n>', 'repetitions (median reported)', '3')
  .option('--reps-large <n>', 'repetitions at more than 255 clients (each round there is minutes of in-process work)', '1')
  .option('--clock <cpu|thread|wall>', 'how client and coordinator steps are timed', 'cpu')
  .option('--dropout <list>', 'fractions of clients that drop after sharing keys', '0')
  .option('--modes <list>', 'plain,secagg,secagg+', 'plain,secagg,secagg+')
  .option('--samples <n>', 'clients sampled for an extrapolated row (secagg above 255 clients)', '3')
  .option('--sums <list>', 'kernel and/or js: secagg rows sum masks on the WebAssembly kernel or in JavaScript (secagg/word-sum.ts), both in one run', 'kernel')
  .option('--hosts <n>', 'worker threads the simulated clients are split over (taking turns; fewer clients per heap)', '1')
  .option('--harness <list>', 'workers (clients in worker threads, every side on its own thread clock) and/or in-process (the old one-heap harness)', 'workers')
  .option(
    '--client-heap <list>',
    "workers harness: how a client step is charged for collections, own (as on a device: other clients' garbage collected untimed before the step, its own after it, timed) and/or shared (whatever collection of all simulated clients' heap falls in it)",
    'own,shared',
  )
  .option('--host-old-space <mb>', "workers harness: the client hosts' initial old-generation limit in MB (0: V8's default; see client-pool.ts)", '0')
  .option(
    '--coordinator-heap-growing-percent <n>',
    "V8's old-generation growing factor on the coordinator's turns (the service's --heap-growing-percent; 0 = V8's own); client turns always run under V8's own",
    String(DEFAULT_HEAP_GROWING_PERCENT),
  )
  .option('--trace-steps', 'workers harness: print every client step of every batch in order (CPU / wall ms) to stderr')
  .parse();
const opts = program.opts<{
  clients: string;
  params: string;
  reps: string;
  repsLarge: string;
  clock: string;
  dropout: string;
  modes: string;
  samples: string;
  sums: string;
  hosts: string;
  harness: string;
  clientHeap: string;
  traceSteps?: boolean;
  hostOldSpace: string;
  coordinatorHeapGrowingPercent: string;
}>();
const coordinatorHeapGrowingPercent = Number(opts.coordinatorHeapGrowingPercent);
const sumsList = opts.sums.split(',') as Array<'kernel' | 'js'>;
for (const s of sumsList) if (s !== 'kernel' && s !== 'js') throw new Error(`--sums takes kernel and/or js, got ${s}`);
const harnesses = opts.harness.split(',') as Array<'workers' | 'in-process'>;
for (const h of harnesses) if (h !== 'workers' && h !== 'in-process') throw new Error(`--harness takes workers and/or in-process, got ${h}`);
const clientHeaps = opts.clientHeap.split(',') as ClientHeap[];
for (const h of clientHeaps) if (h !== 'own' && h !== 'shared') throw new Error(`--client-heap takes own and/or shared, got ${h}`);
/** The accountings each row runs under: the workers harness once per --client-heap entry, the in-process one once. */
const accountings = harnesses.flatMap((harness): Array<{ harness: 'workers' | 'in-process'; heap: ClientHeap | null; label: string }> =>
  harness === 'workers' ? clientHeaps.map((heap) => ({ harness, heap, label: `workers, ${heap} client heap` })) : [{ harness, heap: null, label: harness }],
);
if (!['cpu', 'thread', 'wall'].includes(opts.clock)) throw new Error(`--clock must be cpu, thread or wall, got ${opts.clock}`);
/**
 * The in-process harness's clock: milliseconds of CPU time (process user + system, or the main thread's with
 * --clock thread), or wall time. The workers harness always times each side on its own thread's CPU clock.
 */
const clock: () => number =
  opts.clock === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : opts.clock === 'thread'
      ? threadClock()
      : () => performance.now();
const clientCounts = opts.clients.split(',').map(Number);
const params = Number(opts.params);
/** One dense shared tensor of `params` floats: what every mode aggregates. */
const manifest: WeightManifest = { tensors: [{ name: 'dense', shape: [params], dtype: 'float32', shared: true }] };
const repsFor = (n: number) => Number(n > 255 ? opts.repsLarge : opts.reps);
const dropouts = opts.dropout.split(',').map(Number);
/** Seeds the simulated population (population.ts): client i has the same data in every harness and row. */
const POPULATION_SEED = 1;
const modes = opts.modes.split(',') as Array<'plain' | 'secagg' | 'secagg+'>;
/** Each mode once per --sums entry (plain has no masks), labelled by its sums when there is more than one. */
const variants = modes.flatMap((mode): Array<{ mode: (typeof modes)[number]; label: string; kernel: boolean }> =>
  mode === 'plain'
    ? [{ mode, label: mode, kernel: true }]
    : sumsList.map((sums) => ({ mode, label: sumsList.length > 1 ? `${mode} (${sums} sums)` : mode, kernel: sums === 'kernel' })),
);

/** The whole population in this heap (the in-process harness and extrapolated rows): the same clients as the workers'. */
function makeClients(n: number, seed: number): Map<string, ClientContribution> {
  const out = new Map<string, ClientContribution>();
  for (let i = 0; i < n; i++) out.set(clientId(i), clientContribution(seed, i, params));
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

/**
 * Sealed FedAvg as the project does it without secagg, in a session's steady state: each client's
 * EnvelopeSealer and the coordinator's EnvelopeOpener have agreed their keys (once per connection).
 */
async function plainRound(cs: Map<string, ClientContribution>, dropped: Set<string>): Promise<RoundFigures> {
  const coordinator = generateKeyPair();
  const opener = new EnvelopeOpener(coordinator.secretKey);
  const sealers = new Map<string, EnvelopeSealer>();
  for (const id of cs.keys()) {
    const sealer = new EnvelopeSealer(coordinator.publicKey);
    const hello = { roundId: 0, clientId: id, taskId: 't0', modelVersion: 0 };
    await opener.open(await sealer.seal(new Uint8Array(1), hello), hello);
    sealers.set(id, sealer);
  }
  const t0 = performance.now();
  const clientMs: number[] = [];
  const uploads: number[] = [];
  let serverMs = 0;
  // The coordinator's own accumulator and FedAvg average, as the plain collector runs them.
  const acc = new UpdateAccumulator(manifest);
  for (const [id, c] of cs) {
    if (dropped.has(id)) continue;
    const binding = { roundId: 1, clientId: id, taskId: 't1', modelVersion: 1 };
    let t = clock();
    const envelope = await sealers.get(id)!.seal(encodeUpdatePayload({ numExamples: c.numExamples, metrics: { loss: 0.5 }, delta: c.delta }), binding);
    clientMs.push(clock() - t);
    uploads.push(wireBytes({ envelope }));
    t = clock();
    const payload = decodeUpdatePayload(await opener.open(envelope, binding));
    acc.add(payload.numExamples, payload.delta, payload.rowWeights);
    serverMs += clock() - t;
  }
  const t = clock();
  const result = averageDelta(manifest, acc.sums);
  serverMs += clock() - t;
  const stages = { 'seal / open': { clientMaxMs: Math.max(...clientMs), serverMs } };
  return {
    criticalMs: criticalPath(stages),
    stages,
    totalMs: performance.now() - t0,
    serverMs,
    clientMedianMs: median(clientMs),
    clientMaxMs: Math.max(...clientMs),
    uploadBytes: mean(uploads),
    downloadBytes: 0,
    maxError: maxDiff(
      result,
      plainWeightedMean(cs, (id) => !dropped.has(id)),
    ),
  };
}

async function secaggRound(cs: Map<string, ClientContribution>, dropped: Set<string>, config: SecAggConfig): Promise<RoundFigures> {
  const layout = contributionLayout(manifest);
  const t0 = performance.now();
  const clientMs = new Map<string, number>();
  // Per stage, per client: the critical path takes the slowest client of each stage.
  const stageClient = new Map<string, Map<string, number>>();
  const stageServer = new Map<string, number>();
  const up = new Map<string, number>();
  const down = new Map<string, number>();
  const add = (m: Map<string, number>, id: string, x: number) => m.set(id, (m.get(id) ?? 0) + x);
  const addStep = (stage: string, id: string, ms: number) => {
    add(clientMs, id, ms);
    if (!stageClient.has(stage)) stageClient.set(stage, new Map());
    add(stageClient.get(stage)!, id, ms);
  };
  const inputs = new Map<string, Uint32Array>();
  for (const [id, c] of cs) {
    // Quantization is the client's stage-2 work (done when training ends).
    const t = clock();
    inputs.set(id, encodeContribution(c, layout, config));
    if (!dropped.has(id)) addStep('masked-input', id, clock() - t);
  }
  const { outcome } = await runInMemoryRound({
    roundId: 1,
    config,
    inputs,
    validate: true,
    clock,
    dropBefore: { 'masked-input': dropped },
    observer: {
      clientStep: (id, stage, ms, sent, received) => {
        addStep(stage, id, ms);
        add(up, id, packedBytes(sent));
        add(down, id, packedBytes(received));
      },
      serverStep: (stage, ms) => add(stageServer, stage === 'finish' ? 'unmask' : stage, ms),
    },
  });
  inputs.clear();
  const serverTotal = () => [...stageServer.values()].reduce((a, b) => a + b, 0);
  if (outcome.status !== 'completed') {
    return {
      abandoned: outcome.reason,
      criticalMs: 0,
      stages: {},
      totalMs: performance.now() - t0,
      serverMs: serverTotal(),
      clientMedianMs: 0,
      clientMaxMs: 0,
      uploadBytes: 0,
      downloadBytes: 0,
      maxError: Number.NaN,
    };
  }
  const t = clock();
  const sums = decodeAggregate(outcome.sum, outcome.contributors.length, layout, config);
  const result = averageDelta(manifest, sums);
  add(stageServer, 'unmask', clock() - t);
  const survivors = [...cs.keys()].filter((id) => !dropped.has(id));
  const times = survivors.map((id) => clientMs.get(id)!);
  const stages: RoundFigures['stages'] = {};
  for (const stage of ['advertise', 'share-keys', 'masked-input', 'unmask']) {
    const perClient = [...(stageClient.get(stage)?.values() ?? [])];
    stages[stage] = { clientMaxMs: perClient.length ? Math.max(...perClient) : 0, serverMs: stageServer.get(stage) ?? 0 };
  }
  return {
    criticalMs: criticalPath(stages),
    stages,
    totalMs: performance.now() - t0,
    serverMs: serverTotal(),
    clientMedianMs: median(times),
    clientMaxMs: Math.max(...times),
    uploadBytes: mean(survivors.map((id) => up.get(id)!)),
    downloadBytes: mean(survivors.map((id) => down.get(id)!)),
    maxError: maxDiff(
      result,
      plainWeightedMean(cs, (id) => !dropped.has(id)),
    ),
  };
}

const timeIt = (f: () => void): number => {
  const t = clock();
  f();
  return clock() - t;
};
const timeItAsync = async (f: () => Promise<unknown>): Promise<number> => {
  const t = clock();
  await f();
  return clock() - t;
};

/**
 * Full SecAgg at n > 255 clients, which cannot run: one client's measured work against n-1 peers (on a
 * sample of clients), the server's vector work measured in full, Shamir costs scaled from 255 shares.
 */
async function extrapolatedSecAgg(
  n: number,
  cs: Map<string, ClientContribution>,
  config: SecAggConfig,
  samples: number,
): Promise<RoundFigures & { note: string }> {
  const layout = contributionLayout(manifest);
  const ids = [...cs.keys()];
  const peers = ids.map((id) => ({ id, cipher: generateMaskKeyPair(), mask: generateMaskKeyPair() }));
  const m = 255;
  const t = thresholdFor(config, m, n);
  const shamirScale = (n / m) ** 2;
  const seed = new Uint8Array(32).fill(1);
  const shares = await splitSecret(seed, m, t);
  // Median of a few timed calls after a warm-up: a single first call is mostly JIT.
  const medianOf = async (f: () => Promise<unknown>) => {
    await f();
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) xs.push(await timeItAsync(f));
    return median(xs);
  };
  const splitMs = await medianOf(() => splitSecret(seed, m, t));
  const combineMs = await medianOf(() => combineShares(shares, t));
  const clientMs: number[] = [];
  for (const me of peers.slice(0, samples)) {
    const others = peers.filter((p) => p.id !== me.id);
    const pair = { seedShare: shares[0]!, keyShare: shares[1]! };
    let ms = timeIt(() => {
      generateMaskKeyPair();
      generateMaskKeyPair();
    });
    // Stage 1: a share-encryption key and a sealed share pair per peer; stage 2: open them, agree masks, expand.
    ms += timeIt(() => {
      for (const p of others) {
        const key = agreeKey('share-encryption', 1, me.id, p.id, me.cipher.secretKey, p.cipher.publicKey);
        const sealed = sealShares(key, { roundId: 1, from: me.id, to: p.id }, pair);
        openShares(key, { roundId: 1, from: me.id, to: p.id }, sealed.nonce, sealed.ciphertext);
      }
    });
    ms += timeIt(() => {
      const mask = expandMask(seed, layout.vectorLength);
      for (const p of others) addMask(mask, agreeKey('pairwise-mask', 1, me.id, p.id, me.mask.secretKey, p.mask.publicKey), me.id < p.id ? 1 : -1);
      const input = encodeContribution(cs.get(me.id)!, layout, config);
      for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! + input[i]!;
    });
    clientMs.push(ms + 2 * splitMs * shamirScale);
  }
  // Server: sum n masked vectors, remove n self masks (measured in full); n seed reconstructions (scaled).
  const sum = new Uint32Array(layout.vectorLength);
  const vector = expandMask(new Uint8Array(32).fill(2), layout.vectorLength);
  let serverMs = timeIt(() => {
    for (let c = 0; c < n; c++) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + vector[i]!;
  });
  serverMs += timeIt(() => {
    for (let c = 0; c < n; c++) addMask(sum, seed, -1);
  });
  serverMs += n * combineMs * shamirScale;
  // Bytes from the message shapes (random bytes of the real sizes), packed as on the wire.
  const others = peers.slice(1);
  const sealed = sealShares(new Uint8Array(32), { roundId: 1, from: 'a', to: 'b' }, { seedShare: shares[0]!, keyShare: shares[1]! });
  const upload =
    packedBytes({ roundId: 1, cipherPublicKey: peers[0]!.cipher.publicKey, maskPublicKey: peers[0]!.mask.publicKey }) +
    packedBytes({ roundId: 1, encryptedShares: others.map((p) => ({ to: p.id, ...sealed })) }) +
    packedBytes({ roundId: 1, masked: new Uint8Array(4 * layout.vectorLength) }) +
    packedBytes({ roundId: 1, seedShares: peers.map((p) => ({ of: p.id, share: shares[0]! })), keyShares: [] });
  const download =
    packedBytes({
      roundId: 1,
      roster: ids,
      graphSeed: seed,
      threshold: t,
      vectorLength: layout.vectorLength,
      neighbours: others.map((p) => ({ clientId: p.id, cipherPublicKey: p.cipher.publicKey, maskPublicKey: p.mask.publicKey })),
    }) +
    packedBytes({ roundId: 1, encryptedShares: others.map((p) => ({ from: p.id, ...sealed })) }) +
    packedBytes({ roundId: 1, survivors: ids, dropped: [] });
  const stages = { 'all stages (sampled client)': { clientMaxMs: Math.max(...clientMs), serverMs } };
  return {
    criticalMs: criticalPath(stages),
    stages,
    totalMs: n * median(clientMs) + serverMs,
    serverMs,
    clientMedianMs: median(clientMs),
    clientMaxMs: Math.max(...clientMs),
    uploadBytes: upload,
    downloadBytes: download,
    maxError: Number.NaN,
    note:
      `secagg @ ${n} clients cannot run (GF(2^8) Shamir allows 255 shares: a configuration error naming secagg+). Row EXTRAPOLATED: ` +
      `client work measured on ${samples} sampled clients against ${n - 1} real peers (X25519, share sealing/opening, ${n - 1} mask expansions); ` +
      `server vector work measured in full (${n} inputs summed, ${n} self masks removed); Shamir split/combine measured at 255 shares ×(${n}/255)²; ` +
      `bytes from the message shapes; in-process total = ${n} × client median + server.`,
  };
}

function prgThroughputMBs(): number {
  const seed = new Uint8Array(32).fill(7);
  // Into one held sum, as the client (its scratch sum) and the server (its round's sum) expand masks.
  const sum = new WordSum(params);
  for (let i = 0; i < 20; i++) addMask(sum, seed, 1);
  // Process CPU time, not wall: on a loaded machine wall time mostly measures the other jobs.
  const start = processCpuMs();
  let bytes = 0;
  while (processCpuMs() - start < 500) {
    addMask(sum, seed, 1);
    bytes += 4 * params;
  }
  return bytes / 1e6 / ((processCpuMs() - start) / 1000);
}

const fmtMs = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const fmtKB = (x: number) => `${(x / 1024).toFixed(1)} KiB`;

/** Which keystream the masks come from in this process (secagg/prg.ts). */
function prgName(): string {
  if (nativeKeystream) return 'native AES-CTR into a reused buffer, secagg/native';
  return nativeCrypto ? `node:crypto; native keystream ${nativeKeystreamStatus}` : 'pure JS: no node:crypto';
}

async function main(): Promise<void> {
  console.log(
    `AES-256-CTR masks from ${prgName()}; Node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `params=${params}, reps=${opts.reps} (${opts.repsLarge} above 255 clients), dropout after share keys=${dropouts.join(', ')}, clock=${opts.clock}`,
  );
  console.log(
    'Round time = Σ over stages (slowest client + coordinator), each client timed on its own: the critical path of a round whose\n' +
      'clients run on their own devices in parallel (one process plays them one after another here). Coordinator work is counted\n' +
      'in full, not overlapped with client work. Plain = slowest client encode+seal + coordinator open/validate/bound/accumulate/average.\n' +
      'Harness workers: the clients in a worker thread, the coordinator in the main thread, taking turns, every step in process\n' +
      "CPU time (each side charged with its own heap's garbage collection only; --client-heap own: a client step charged as a\n" +
      "device with its own heap would be, shared: with whatever collection of all clients' heap falls in it).\n" +
      '"As the SDK schedules it": a device trains from stage 0 on, on its main thread; what the round adds after a training at\n' +
      'least as long as the first stages ("needs training ≥") is the slowest device\'s main-thread work (advertise, share keys, opening\n' +
      "the shares, masking its input; not its mask worker's job) + the coordinator's masked-input stage + the unmask stage.\n" +
      `Coordinator turns run under the service's GC setting (--heap-growing-percent ${coordinatorHeapGrowingPercent}), client turns under V8's own.\n`,
  );
  const summary: Array<Record<string, string>> = [];
  const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(2)}×` : '-');
  const pool = harnesses.includes('workers')
    ? new ClientPool(
        { seed: POPULATION_SEED, params, manifest, traceSteps: opts.traceSteps === true },
        Number(opts.hosts),
        Number(opts.hostOldSpace),
        coordinatorHeapGrowingPercent,
      )
    : null;
  // Spread over the roster (a fixed stride), as real dropouts are, rather than one contiguous block.
  const droppedAt = (n: number, dropout: number) => new Set(Array.from({ length: Math.round(dropout * n) }, (_, i) => (i * 37) % n));
  /*
   * PLAIN_FIRST: with the workers harness every plain row runs before any secure row, so plain's coordinator works in a
   * heap whose history is plain's own, as a coordinator's in plain mode. Run after a secure row, it inherited that row's
   * garbage (node:crypto's keystream buffers: hundreds of MB), which left the heap sized so that opening updates was
   * about a quarter cheaper than in a plain-only history (100 clients, 30%: plain's coordinator 29.9 ms after a
   * node:crypto secure row against 40.4 ms after a native-keystream one, 17:23 UTC), a measure of the secure path's
   * garbage, not of plain.
   */
  const plainRuns = new Map<string, RoundFigures[]>();
  const plainKey = (n: number, dropout: number, accounting: string) => `${n}/${dropout}/${accounting}`;
  if (pool && modes.includes('plain')) {
    for (const n of clientCounts) {
      for (const dropout of dropouts) {
        for (const { harness, heap, label: accounting } of accountings) {
          if (harness !== 'workers') continue;
          if (heap) await pool.chargeCollections(heap);
          const indices = Array.from({ length: n }, (_, i) => i);
          const ctx = { pool, seed: POPULATION_SEED, params, manifest, clock: processCpuMs, indices, wordSumKernel: true };
          // Plain warms up at full size (a few seconds): its first 1,000-client round in a process measured 1.4 ms an
          // update against 0.4-0.6 ms in the next rows (memory the process touches for the first time).
          await plainRoundInWorkers({ ...ctx, dropped: new Set() });
          const figures: RoundFigures[] = [];
          for (let r = 0; r < repsFor(n); r++) figures.push(await plainRoundInWorkers({ ...ctx, dropped: droppedAt(n, dropout) }));
          plainRuns.set(plainKey(n, dropout, accounting), figures);
        }
      }
    }
  }
  for (const n of clientCounts) {
    // The whole population in this heap only where a harness needs it there.
    const needsHeap = harnesses.includes('in-process') || (modes.includes('secagg') && n > 255);
    const cs = needsHeap ? makeClients(n, POPULATION_SEED) : new Map<string, ClientContribution>();
    const reps = repsFor(n);
    for (const dropout of dropouts) {
      const droppedIndices = droppedAt(n, dropout);
      const dropped = new Set([...droppedIndices].map(clientId));
      const indices = Array.from({ length: n }, (_, i) => i);
      for (const { harness, heap, label: accounting } of accountings) {
        if (heap) await pool!.chargeCollections(heap);
        const rows: Array<[string, RoundFigures]> = [];
        const notes: string[] = [];
        const context = { pool: pool!, seed: POPULATION_SEED, params, manifest, clock: processCpuMs };
        for (const { mode, label, kernel } of variants) {
          const config = mode === 'plain' ? null : parseSecAggConfig({ mode, clipRange: 0.1, maxWeight: 256 });
          if (config) {
            const why = roundInfeasibility(config, n);
            if (why) {
              const { note, ...figures } = await extrapolatedSecAgg(n, cs, config, Number(opts.samples));
              notes.push(`${label} @ ${n}: ${why}.\n  ${note}`);
              rows.push([`${label} (extrapolated)`, figures]);
              continue;
            }
          }
          const round = (warm: boolean): Promise<RoundFigures> => {
            if (harness === 'workers') {
              // Only secure rows come here: plain's ran first (PLAIN_FIRST, above). secagg+ runs in memory plain has
              // touched, and its own warm-up stays small (a full round is minutes).
              if (!config) throw new Error('the workers harness runs plain rows first (PLAIN_FIRST)');
              const ctx = {
                ...context,
                indices: warm ? indices.slice(0, 8) : indices,
                dropped: warm ? new Set<number>() : droppedIndices,
                wordSumKernel: kernel,
              };
              return secaggRoundInWorkers(ctx, config);
            }
            useWordSumKernel(kernel);
            const population = warm ? new Map([...cs].slice(0, 8)) : cs;
            const gone = warm ? new Set<string>() : dropped;
            return config ? secaggRound(population, gone, config) : plainRound(population, gone);
          };
          const ranFirst = !config && harness === 'workers' ? plainRuns.get(plainKey(n, dropout, accounting)) : undefined;
          const figures: RoundFigures[] = ranFirst ?? [];
          if (!ranFirst) {
            // One small untimed round first so the JIT has compiled every path.
            await round(true);
            for (let r = 0; r < reps; r++) figures.push(await round(false));
          }
          const abandoned = figures.find((f) => f.abandoned)?.abandoned;
          if (abandoned) {
            rows.push([label, { ...figures[0]!, abandoned }]);
            continue;
          }
          // The rep with the median critical path, whole (its stages add up to its round time).
          // Every rep's round time, so the spread on a loaded machine is visible next to the median.
          if (reps > 1) console.log(`  ${label} (${accounting}) round time per rep: ${figures.map((f) => fmtMs(f.criticalMs)).join(', ')}`);
          const byCritical = [...figures].sort((x, y) => x.criticalMs - y.criticalMs);
          const row: RoundFigures = { ...byCritical[Math.floor(byCritical.length / 2)]!, maxError: Math.max(...figures.map((f) => f.maxError)) };
          // "As the SDK schedules it" is a sum of other terms than the critical path (max over devices of main-thread work,
          // the last two stages), so the rep with the median critical path is not the rep with the median schedule: each of
          // its two figures is the median over the reps, like the round time (it was the median rep's own before 1 December
          // 2026, evening; one rep's figure moves with that rep's slowest device).
          const scheduled = figures.map((f) => f.scheduled).filter((x) => x !== undefined);
          if (scheduled.length === figures.length && scheduled.length > 0) {
            row.scheduled = { ms: median(scheduled.map((x) => x.ms)), trainingAtLeastMs: median(scheduled.map((x) => x.trainingAtLeastMs)) };
            if (reps > 1) console.log(`  ${label} (${accounting}) as the SDK schedules it, per rep: ${scheduled.map((x) => fmtMs(x.ms)).join(', ')}`);
          }
          rows.push([label, row]);
        }
        const plain = rows.find(([m]) => m === 'plain')?.[1];
        const clockName =
          harness === 'workers'
            ? `process CPU, clients in ${opts.hosts === '1' ? 'a worker' : `${opts.hosts} workers`}, sides in turn, ${heap} client heap`
            : `${opts.clock}, one heap`;
        console.log(
          `== ${n} clients, ${Math.round(dropout * 100)}% dropping after share keys (${reps} rep${reps > 1 ? 's, median' : ''}; harness ${harness}: ${clockName}; load ${loadavg()[0]!.toFixed(1)}) ==`,
        );
        for (const [mode, f] of rows.filter(([m]) => m !== 'plain')) {
          const cfg = parseSecAggConfig({ mode: mode.startsWith('secagg+') ? 'secagg+' : 'secagg' });
          const k = Math.min(n - 1, neighbourCount(cfg, n));
          summary.push({
            ...(accountings.length > 1 ? { harness: accounting } : {}),
            clients: String(n),
            dropout: `${Math.round(dropout * 100)}%`,
            mode,
            'k / t': `${k} / ${thresholdFor(cfg, k + 1, n)}`,
            completed: f.abandoned ? `no: ${f.abandoned}` : 'yes',
            'round time': f.abandoned ? '-' : fmtMs(f.criticalMs),
            plain: plain ? fmtMs(plain.criticalMs) : '-',
            'round vs plain': f.abandoned ? '-' : ratio(f.criticalMs, plain?.criticalMs),
            ...(f.scheduled !== undefined && !f.abandoned
              ? {
                  'vs plain, as the SDK schedules it': ratio(f.scheduled.ms, plain?.criticalMs),
                  'needs training ≥': fmtMs(f.scheduled.trainingAtLeastMs),
                  ...(plain ? { '≤ 2× plain, training included, from a training of': fmtMs(trainingForAim(f.scheduled, plain.criticalMs)) } : {}),
                }
              : {}),
            'upload / client': f.abandoned ? '-' : fmtKB(f.uploadBytes),
            'upload vs plain': f.abandoned ? '-' : ratio(f.uploadBytes, plain?.uploadBytes),
            'download / client': f.abandoned ? '-' : fmtKB(f.downloadBytes),
          });
        }
        console.table(
          Object.fromEntries(
            rows
              .filter(([, f]) => !f.abandoned)
              .map(([mode, f]) => [
                mode,
                {
                  'round time (critical path)': fmtMs(f.criticalMs),
                  'vs plain': ratio(f.criticalMs, plain?.criticalMs),
                  'coordinator total': fmtMs(f.serverMs),
                  'client total median': fmtMs(f.clientMedianMs),
                  'client total max': fmtMs(f.clientMaxMs),
                  'in-process total (wall)': fmtMs(f.totalMs),
                  upload: fmtKB(f.uploadBytes),
                  'upload vs plain': ratio(f.uploadBytes, plain?.uploadBytes),
                  download: fmtKB(f.downloadBytes),
                  'max |mean error|': Number.isNaN(f.maxError) ? '-' : f.maxError.toExponential(1),
                },
              ]),
          ),
        );
        // Where the round time goes, stage by stage.
        console.table(
          Object.fromEntries(
            rows
              .filter(([, f]) => !f.abandoned)
              .flatMap(([mode, f]) =>
                Object.entries(f.stages).map(([stage, s]) => [
                  `${mode}: ${stage}`,
                  {
                    'slowest client': fmtMs(s.clientMaxMs),
                    ...(s.clientMedianMs !== undefined ? { 'median client': fmtMs(s.clientMedianMs) } : {}),
                    coordinator: fmtMs(s.serverMs),
                  },
                ]),
              ),
          ),
        );
        for (const note of notes) console.log(`  note: ${note}`);
        for (const [mode, f] of rows.filter(([, f]) => f.abandoned)) console.log(`  ${mode} ABANDONED: ${f.abandoned}`);
        if (plain) {
          for (const [mode, f] of rows.filter(([m, f]) => m !== 'plain' && !f.abandoned)) {
            // The extra upload is not only keys and shares: with dropouts each survivor also uploads the sum of its masks
            // with its dropped neighbours (one vector the size of the model).
            console.log(
              `  ratio ${mode} / plain @ ${n}: round time ${ratio(f.criticalMs, plain.criticalMs)} (critical path; aim ≤ 2×)` +
                (f.scheduled !== undefined
                  ? `, ${ratio(f.scheduled.ms, plain.criticalMs)} as the SDK schedules it (${fmtMs(f.scheduled.ms)} after a training of at least ${fmtMs(f.scheduled.trainingAtLeastMs)}; ` +
                    `≤ 2× plain, the same training in both included, from a training of ${fmtMs(trainingForAim(f.scheduled, plain.criticalMs))})`
                  : '') +
                `, upload ${ratio(f.uploadBytes, plain.uploadBytes)} ` +
                `(${fmtKB(f.uploadBytes)} vs ${fmtKB(plain.uploadBytes)}; extra: keys, shares${dropped.size > 0 ? ', mask corrections' : ''} ${fmtKB(Math.max(0, f.uploadBytes - plain.uploadBytes))})`,
            );
          }
        }
        console.log('');
      }
    }
  }
  await pool?.close();
  console.log(`Summary (round time = critical path: Σ stages of slowest client + coordinator; ${accountings.map((a) => a.label).join(' / ')}):`);
  console.table(summary);
  // Measured after the rows, not before: half a second of node:crypto keystreams is over a gigabyte of external garbage,
  // and run first it left the coordinator's heap sized for it, which made plain's opening about a quarter cheaper for the
  // whole process than in a process that had not made it (100 clients, 15 repetitions each, 17:24 UTC: 40.6 against
  // 48.1 ms). Plain's rows must not depend on a measurement of the secure path.
  console.log(`AES-256-CTR mask PRG: ${prgThroughputMBs().toFixed(0)} MB/s of CPU time (${params}-word masks added into a sum; ${prgName()})`);
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
}

await main();
