/**
 * Secure aggregation benchmark: one in-process round of plain sealed FedAvg vs SecAgg vs SecAgg+.
 *   npx tsx bench/secagg.ts [--clients 100,500] [--params 100000] [--reps 3] [--dropout 0,0.1,0.3] [--modes plain,secagg,secagg+]
 * --dropout is a list: each n runs once per fraction of clients dropping after share keys. secagg+ uses the
 * config's 'auto' neighbours and threshold (Bell et al., sized for dropoutRate 0.3: secagg/parameters.ts); an
 * abandoned round is reported as such (with its reason), not thrown.
 * Client work runs on many devices in parallel in reality, so besides the in-process total we report
 * server time, per-client time (median and max) and a "parallel round" = slowest client + server.
 * Bytes are Socket.IO payload bytes as sent: JSON text (binary fields as placeholders) plus the binary
 * attachments; secagg stage messages are counted packed, as the wire carries them (protocol/packed.ts). The model
 * broadcast, the same in every mode, is left out. Training time is left out too.
 * Full SecAgg above 255 clients cannot run (GF(2^8) Shamir: a configuration error naming secagg+). For those
 * rows the benchmark measures one client's work on a sample (real X25519 agreements, share sealing/opening and
 * mask expansion against n-1 peers), the server's vector work in full (n masked inputs summed, n self masks
 * removed), and scales the Shamir split/combine measured at 255 shares by (n/255)²; it says so in the output.
 */
import { Command } from 'commander';
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
  type ClientContribution,
} from '@fedrec/secagg';
import { pack, parseSecAggConfig, type SecAggConfig } from '@fedrec/protocol';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { averageDelta } from '@fedrec/coordinator/strategy/fedavg-math.js';

const program = new Command()
  .option('--clients <list>', 'client counts', '100,500')
  .option('--params <n>', 'parameters per delta', '100000')
  .option('--reps <n>', 'repetitions (median reported)', '3')
  .option('--dropout <list>', 'fractions of clients that drop after sharing keys', '0')
  .option('--modes <list>', 'plain,secagg,secagg+', 'plain,secagg,secagg+')
  .option('--samples <n>', 'clients sampled for an extrapolated row (secagg above 255 clients)', '3')
  .parse();
const opts = program.opts<{ clients: string; params: string; reps: string; dropout: string; modes: string; samples: string }>();
const clientCounts = opts.clients.split(',').map(Number);
const params = Number(opts.params);
/** One dense shared tensor of `params` floats: what every mode aggregates. */
const manifest: WeightManifest = { tensors: [{ name: 'dense', shape: [params], dtype: 'float32', shared: true }] };
const reps = Number(opts.reps);
const dropouts = opts.dropout.split(',').map(Number);
const modes = opts.modes.split(',') as Array<'plain' | 'secagg' | 'secagg+'>;

interface RoundFigures {
  /** Why the round was abandoned (secure aggregation), or undefined when it completed. */
  abandoned?: string;
  totalMs: number;
  serverMs: number;
  clientMedianMs: number;
  clientMaxMs: number;
  uploadBytes: number;
  downloadBytes: number;
  maxError: number;
}

/** Socket.IO payload size: the JSON text with each binary field as its placeholder, plus the binary bytes. */
function wireBytes(v: unknown): number {
  let binary = 0;
  let num = 0;
  const json = JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Uint8Array) {
      binary += x.byteLength;
      return { _placeholder: true, num: num++ };
    }
    return x;
  });
  return (json?.length ?? 0) + binary;
}

/** A secagg stage message as it travels: packed into one attachment. */
const packedBytes = (v: unknown) => (v === null || v === undefined ? 0 : wireBytes(pack(v)));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function makeClients(n: number, seed: number): Map<string, ClientContribution> {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
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
    let t = performance.now();
    const envelope = await sealers.get(id)!.seal(encodeUpdatePayload({ numExamples: c.numExamples, metrics: { loss: 0.5 }, delta: c.delta }), binding);
    clientMs.push(performance.now() - t);
    uploads.push(wireBytes({ envelope }));
    t = performance.now();
    const payload = decodeUpdatePayload(await opener.open(envelope, binding));
    acc.add(payload.numExamples, payload.delta, payload.rowWeights);
    serverMs += performance.now() - t;
  }
  const t = performance.now();
  const result = averageDelta(manifest, acc.sums);
  serverMs += performance.now() - t;
  return {
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
        add(up, id, packedBytes(sent));
        add(down, id, packedBytes(received));
      },
      serverStep: (_stage, ms) => void (serverMs += ms),
    },
  });
  if (outcome.status !== 'completed') {
    return {
      abandoned: outcome.reason,
      totalMs: performance.now() - t0,
      serverMs,
      clientMedianMs: 0,
      clientMaxMs: 0,
      uploadBytes: 0,
      downloadBytes: 0,
      maxError: Number.NaN,
    };
  }
  const t = performance.now();
  const sums = decodeAggregate(outcome.sum, outcome.contributors.length, layout, config);
  const result = averageDelta(manifest, sums);
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
    maxError: maxDiff(
      result,
      plainWeightedMean(cs, (id) => !dropped.has(id)),
    ),
  };
}

const timeIt = (f: () => void): number => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const timeItAsync = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return performance.now() - t;
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
  return {
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
  console.log(`params=${params}, reps=${reps}, dropout after share keys=${dropouts.join(', ')}\n`);
  const summary: Array<Record<string, string>> = [];
  for (const n of clientCounts) {
    const cs = makeClients(n, n);
    for (const dropout of dropouts) {
      const ids = [...cs.keys()];
      // Spread over the roster (a fixed stride), as real dropouts are, rather than one contiguous block.
      const dropped = new Set(Array.from({ length: Math.round(dropout * n) }, (_, i) => ids[(i * 37) % n]!));
      const rows: Array<[string, RoundFigures]> = [];
      const notes: string[] = [];
      for (const mode of modes) {
        const config = mode === 'plain' ? null : parseSecAggConfig({ mode, clipRange: 0.1, maxWeight: 256 });
        if (config) {
          const why = roundInfeasibility(config, n);
          if (why) {
            const { note, ...figures } = await extrapolatedSecAgg(n, cs, config, Number(opts.samples));
            notes.push(`${mode} @ ${n}: ${why}.\n  ${note}`);
            rows.push([`${mode} (extrapolated)`, figures]);
            continue;
          }
        }
        // One small untimed round first so the JIT has compiled every path.
        const warm = new Map([...cs].slice(0, 8));
        if (config) await secaggRound(warm, new Set(), config);
        else await plainRound(warm, new Set());
        const figures: RoundFigures[] = [];
        for (let r = 0; r < reps; r++) figures.push(config ? await secaggRound(cs, dropped, config) : await plainRound(cs, dropped));
        const abandoned = figures.find((f) => f.abandoned)?.abandoned;
        if (abandoned) {
          rows.push([mode, { ...figures[0]!, abandoned }]);
          continue;
        }
        const pick = (k: Exclude<keyof RoundFigures, 'abandoned'>) => median(figures.map((f) => f[k]));
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
      console.log(`== ${n} clients, ${Math.round(dropout * 100)}% dropping after share keys ==`);
      const plainParallel = plain ? plain.clientMaxMs + plain.serverMs : undefined;
      for (const [mode, f] of rows.filter(([m]) => m !== 'plain')) {
        const cfg = parseSecAggConfig({ mode: mode.startsWith('secagg+') ? 'secagg+' : 'secagg' });
        const k = Math.min(n - 1, neighbourCount(cfg, n));
        summary.push({
          clients: String(n),
          dropout: `${Math.round(dropout * 100)}%`,
          mode,
          'k / t': `${k} / ${thresholdFor(cfg, k + 1, n)}`,
          completed: f.abandoned ? `no: ${f.abandoned}` : 'yes',
          'round vs plain': f.abandoned || !plainParallel ? '-' : `${((f.clientMaxMs + f.serverMs) / plainParallel).toFixed(2)}×`,
          'upload / client': f.abandoned ? '-' : fmtKB(f.uploadBytes),
          'upload vs plain': f.abandoned || !plain ? '-' : `${(f.uploadBytes / plain.uploadBytes).toFixed(2)}×`,
        });
      }
      console.table(
        Object.fromEntries(
          rows
            .filter(([, f]) => !f.abandoned)
            .map(([mode, f]) => {
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
                  'max |mean error|': Number.isNaN(f.maxError) ? '-' : f.maxError.toExponential(1),
                },
              ];
            }),
        ),
      );
      for (const note of notes) console.log(`  note: ${note}`);
      for (const [mode, f] of rows.filter(([, f]) => f.abandoned)) console.log(`  ${mode} ABANDONED: ${f.abandoned}`);
      if (plain) {
        const p = plain.clientMaxMs + plain.serverMs;
        for (const [mode, f] of rows.filter(([m, f]) => m !== 'plain' && !f.abandoned)) {
          const time = (f.clientMaxMs + f.serverMs) / p;
          const upload = f.uploadBytes / plain.uploadBytes;
          // The extra is not only keys and shares: with dropouts each survivor also uploads the sum of its masks with
          // its dropped neighbours (one vector the size of the model), which the old label hid as "shares".
          console.log(
            `  ratio ${mode} / plain @ ${n}: round time ${time.toFixed(2)}× (parallel; aim ≤ 2× at 100), upload ${upload.toFixed(3)}× ` +
              `(${fmtKB(f.uploadBytes)} vs ${fmtKB(plain.uploadBytes)}; extra: keys, shares${dropped.size > 0 ? ', mask corrections' : ''} ${fmtKB(Math.max(0, f.uploadBytes - plain.uploadBytes))}), in-process total ${(f.totalMs / plain.totalMs).toFixed(2)}×`,
          );
        }
      }
      console.log('');
    }
  }
  console.log('Summary (round time = slowest client + server, the parallel round):');
  console.table(summary);
}

await main();
