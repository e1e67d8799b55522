import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import { UpdateAccumulator, silentLogger } from '@fedrec/coordinator';
import type { CoordinatorServer, FitCollection, FitCollector, FitRoundContext } from '@fedrec/coordinator';
import type { AggregateSums } from '@fedrec/protocol';
import { ClientRegistry } from '@fedrec/coordinator/client-registry.js';
import { handleConnections } from '@fedrec/coordinator/connection-handler.js';
import { FLOAT32_BLOCK } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { createMetrics } from '@fedrec/coordinator/metrics.js';
import { DEFAULT_TRAINING_CONFIG, EnvelopeOpener, encodeWeights, generateKeyPair, generateSignKeyPair, trainingConfigSchema } from '@fedrec/protocol';
import type { RoundResult } from '@fedrec/protocol';
import { DeterministicTrainer } from '../e2e/fixtures/deterministic-trainer.js';
import { connectProving, initialWeights, manifest, modelSpec } from './helpers.js';
import type { ClientIo } from './helpers.js';

/** What differs between collectors and a test may rely on. */
export interface CollectorTraits {
  /** How far decoded sums may be from the exact ones with `contributors` results (quantization); exact by default. */
  tolerance?: (contributors: number) => { weightedDelta: number; weight: number };
}

/** A client the SDK does not drive: it ignores every request, hangs up on the first, or acks it with nonsense. */
type Misbehaviour = 'silent' | 'disconnect' | 'garbage';

/** A round's worth of clients on a real Socket.IO server, wired the way the coordinator wires its own. */
interface Bench {
  /** Clients in the order they were asked for: honest SDK clients first, then the misbehaving ones. */
  ids: string[];
  honest: Map<string, DeterministicTrainer>;
  /** Resolves with the first round:result each client receives. */
  verdicts: Map<string, Promise<RoundResult>>;
  context(roundId: number, deadlineMs: number, signal?: AbortSignal): FitRoundContext;
  close(): Promise<void>;
}

const MIN_RESULTS = 2;
const keyPair = generateKeyPair();

async function startBench(honestCount: number, others: Misbehaviour[]): Promise<Bench> {
  const http = createServer();
  const io: CoordinatorServer = new Server(http, { serveClient: false });
  const registry = new ClientRegistry();
  const global = initialWeights();
  handleConnections(io, {
    authToken: undefined,
    registry,
    metrics: createMetrics(),
    keyPair,
    emit: () => {},
    modelVersion: () => 0,
    snapshot: () => ({ modelVersion: 0, modelSpec, weights: encodeWeights(global) }),
    logger: silentLogger,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const honest = new Map<string, DeterministicTrainer>();
  const verdicts = new Map<string, Promise<RoundResult>>();
  const sdkClients: FederatedClient[] = [];
  const rawClients: ClientIo[] = [];
  for (let i = 0; i < honestCount; i++) {
    const clientId = `dev-${i}`;
    const trainer = new DeterministicTrainer(i);
    const client = createFederatedClient({ url, clientId, trainer, backend: false, reconnect: { enabled: false } });
    honest.set(clientId, trainer);
    sdkClients.push(client);
    verdicts.set(clientId, new Promise((resolve) => client.on('round:result', resolve)));
  }
  await Promise.all(sdkClients.map((c) => c.connect()));
  const raw = await Promise.all(others.map((behaviour, i) => connectMisbehaving(url, `${behaviour}-${i}`, behaviour)));
  for (const r of raw) {
    rawClients.push(r.socket);
    verdicts.set(r.clientId, r.verdict);
  }
  const ids = [...honest.keys(), ...raw.map((r) => r.clientId)];
  await registry.waitForCount(ids.length, new AbortController().signal);

  return {
    ids,
    honest,
    verdicts,
    context(roundId, deadlineMs, signal = new AbortController().signal) {
      return {
        roundId,
        modelVersion: 0,
        global,
        modelSpec,
        deadline: Date.now() + deadlineMs,
        assignments: ids.map((clientId) => ({
          clientId,
          taskId: `fit-${roundId}-${clientId}`,
          socket: registry.get(clientId)!,
          config: trainingConfigSchema.parse(DEFAULT_TRAINING_CONFIG),
        })),
        keyPair,
        opener: new EnvelopeOpener(keyPair.secretKey),
        limits: { maxUpdateBytes: 1 << 20, maxExamplesPerUpdate: 1_000 },
        signal,
        logger: silentLogger,
      };
    },
    async close() {
      await Promise.all(sdkClients.map((c) => c.close()));
      for (const s of rawClients) s.close();
      await io.close();
    },
  };
}

function connectMisbehaving(
  url: string,
  clientId: string,
  behaviour: Misbehaviour,
): Promise<{ clientId: string; socket: ClientIo; verdict: Promise<RoundResult> }> {
  const socket: ClientIo = connectProving(url, clientId, generateSignKeyPair());
  const verdict = new Promise<RoundResult>((resolve) => socket.on('round:result', resolve));
  // Whatever the collector asks first (round:fit, secagg:advertise, ...), answered the same way.
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event === 'round:result' || event === 'model:updated' || event.startsWith('session:')) return;
    const ack = args.at(-1);
    if (behaviour === 'disconnect') socket.disconnect();
    else if (behaviour === 'garbage' && typeof ack === 'function') (ack as (r: unknown) => void)({ ok: true, value: { nonsense: true } });
  });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('session:welcome', () => resolve({ clientId, socket, verdict }));
  });
}

/** The sums of exactly these clients' updates in `roundId`, as the trainers produced them. */
function expectedSums(bench: Bench, roundId: number, clientIds: readonly string[]): Expected {
  const acc = new UpdateAccumulator(manifest);
  const absolute = new UpdateAccumulator(manifest, { kernel: 'float64' });
  for (const id of clientIds) {
    const fit = bench.honest.get(id)?.sent.find((s) => s.roundId === roundId);
    assert.ok(fit, `${id} trained in round ${roundId}`);
    acc.add(fit.numExamples, fit.delta, fit.rowWeights);
    absolute.add(fit.numExamples, fit.delta.map(Math.abs), fit.rowWeights);
  }
  return { ...acc.sums, absolute: absolute.sums.weightedDeltaSum };
}

/** The reference sums, and Σ|n·Δ| per element (what the accumulator's float32 rounding scales with). */
type Expected = AggregateSums & { absolute: Float64Array };

/**
 * Plain sums are summed in float32 blocks (update-accumulator.ts): collectors that group updates
 * differently from the reference (an update pool's shards, arrival order) differ from it by at most
 * both sides' stated error, 2·FLOAT32_BLOCK·2⁻²⁴·Σ|n·Δ|.
 */
const BLOCK_ROUNDING = 2 * FLOAT32_BLOCK * 2 ** -24;

function assertSums(actual: AggregateSums, expected: Expected, traits: CollectorTraits): void {
  const bound = traits.tolerance?.(expected.contributors) ?? { weightedDelta: 0, weight: 0 };
  const close = (a: number, e: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - e) <= b + 1e-9 * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e} (bound ${b})`);
  assert.equal(actual.contributors, expected.contributors);
  assert.equal(actual.weightedDeltaSum.length, expected.weightedDeltaSum.length);
  assert.equal(actual.rowWeightSums.length, expected.rowWeightSums.length);
  close(actual.weightSum, expected.weightSum, bound.weight, 'weightSum');
  expected.rowWeightSums.forEach((e, i) => close(actual.rowWeightSums[i]!, e, bound.weight, `rowWeightSums[${i}]`));
  expected.weightedDeltaSum.forEach((e, i) =>
    close(actual.weightedDeltaSum[i]!, e, bound.weightedDelta + BLOCK_ROUNDING * expected.absolute[i]!, `weightedDeltaSum[${i}]`),
  );
}

const codesOf = (c: FitCollection): Record<string, string> => Object.fromEntries(c.failures.map((f) => [f.clientId, f.code]));

/**
 * Behaviour every FitCollector shows, over real Socket.IO on loopback with real SDK clients (deterministic
 * trainers) and hand-driven misbehaving ones. Rounds have five clients, so secure aggregation can run.
 * Adding a collector: implement FitCollector in one file and run this suite for it in fit-collector.test.ts.
 */
export function fitCollectorContract(name: string, factory: () => FitCollector, traits: CollectorTraits = {}): void {
  describe(`FitCollector contract: ${name}`, () => {
    let bench: Bench | undefined;
    afterEach(async () => {
      await bench?.close();
      bench = undefined;
    });

    it('all clients answer: it resolves without waiting for the deadline, the sums are exactly their updates, everyone is accepted and told so', async () => {
      bench = await startBench(5, []);
      const started = Date.now();
      const collection = await factory().collect(bench.context(1, 30_000));
      assert.ok(Date.now() - started < 10_000, 'resolved once everyone had answered');
      assert.equal(collection.abandonReason, undefined);
      assert.deepEqual([...collection.accepted].sort(), [...bench.ids].sort());
      assert.deepEqual(collection.failures, []);
      assertSums(collection.sums, expectedSums(bench, 1, collection.accepted), traits);
      for (const id of bench.ids) assert.equal((await bench.verdicts.get(id))!.accepted, true, `${id} is told it was accepted`);
    });

    it('a client that times out and one that disconnects become failures; the round resolves from the rest', async () => {
      bench = await startBench(3, ['silent', 'disconnect']);
      const started = Date.now();
      const collection = await factory().collect(bench.context(2, 1_500));
      // Generous slack for a loaded machine: a collector that waited on the silent client would hang until mocha's timeout.
      assert.ok(Date.now() - started < 12_000, 'resolves around the deadline, not later');
      assert.equal(collection.abandonReason, undefined);
      assert.deepEqual([...collection.accepted].sort(), ['dev-0', 'dev-1', 'dev-2']);
      assert.deepEqual(codesOf(collection), { 'silent-0': 'TIMEOUT', 'disconnect-1': 'DISCONNECTED' });
      for (const f of collection.failures) assert.equal(f.phase, 'fit');
      assertSums(collection.sums, expectedSums(bench, 2, collection.accepted), traits);
      assert.equal((await bench.verdicts.get('silent-0'))!.accepted, false, 'the late client learns the round is closed to it');
    });

    it('a rejected update changes nothing: the sums hold only the others, the sender is a failure and told so', async () => {
      bench = await startBench(4, ['garbage']);
      const collection = await factory().collect(bench.context(3, 5_000));
      assert.equal(collection.abandonReason, undefined);
      assert.deepEqual([...collection.accepted].sort(), ['dev-0', 'dev-1', 'dev-2', 'dev-3']);
      assert.deepEqual(codesOf(collection), { 'garbage-0': 'INVALID_PAYLOAD' });
      assertSums(collection.sums, expectedSums(bench, 3, collection.accepted), traits);
      const verdict = await bench.verdicts.get('garbage-0')!;
      assert.equal(verdict.accepted, false);
      assert.equal(verdict.error?.code, 'INVALID_PAYLOAD');
    });

    it('too few results: the engine abandons (the collector gives up, or returns fewer than minResults), and no silent client is counted', async () => {
      bench = await startBench(1, ['silent', 'silent', 'silent', 'silent']);
      const collection = await factory().collect(bench.context(4, 800));
      assert.ok(collection.abandonReason !== undefined || collection.accepted.length < MIN_RESULTS, 'the round cannot commit');
      assert.ok(collection.accepted.every((id) => id === 'dev-0'));
      for (let i = 0; i < 4; i++) assert.equal(codesOf(collection)[`silent-${i}`], 'TIMEOUT');
      if (collection.abandonReason === undefined) assertSums(collection.sums, expectedSums(bench, 4, collection.accepted), traits);
      else assert.equal(collection.accepted.length, 0, 'an abandoning collector reports nobody as accepted');
    });

    it('returns promptly when the coordinator stops, long before the deadline', async () => {
      bench = await startBench(0, ['silent', 'silent', 'silent', 'silent', 'silent']);
      const stop = new AbortController();
      const started = Date.now();
      const collecting = factory().collect(bench.context(5, 30_000, stop.signal));
      stop.abort();
      const collection = await collecting;
      assert.ok(Date.now() - started < 5_000, 'did not wait for the deadline');
      assert.equal(collection.accepted.length, 0);
    });
  });
}
