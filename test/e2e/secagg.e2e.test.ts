import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import { createNodeClient } from '@fedrec/client-sdk/node/index.js';
import type { MaskWorkerExpander } from '@fedrec/client-sdk/secagg-participant-host.js';
import { WorkerMaskExpander } from '@fedrec/client-sdk/node/worker-mask-expander.js';
import type { Coordinator, RoundRecord } from '@fedrec/coordinator';
import {
  DEFAULT_TRAINING_CONFIG,
  PROTOCOL_VERSION,
  encodeWeights,
  fingerprint,
  generateKeyPair,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type WeightManifest,
} from '@fedrec/protocol';
import { SecAggClient, SecAggServer, contributionLayout } from '@fedrec/secagg';
import { advertiseKeysSchema, maskedInputSchema, shareKeysSchema, type ForwardedShares, type Roster, type UnmaskRequest } from '@fedrec/protocol';
import { pack, packedSchema, parseSecAggConfig, type SecAggConfig, type SecAggMode } from '@fedrec/protocol';
import { bytesToUint32 } from '@fedrec/secagg/bytes.js';
import { startCoordinator, stopAll } from '../coordinator/helpers.js';
import { BIT_CHI_LIMIT, BYTE_CHI_LIMIT, bitChiSquare, byteChiSquare } from '@fedrec/secagg/testing/uniformity.js';
import { DeterministicTrainer, type RecordedFit } from './fixtures/deterministic-trainer.js';
import { assertSecureFedAvg } from './fixtures/fedavg-check.js';

const SECAGG = { maxWeight: 100, quantizationBits: 22, advertiseTimeoutMs: 3_000, shareKeysTimeoutMs: 3_000, unmaskTimeoutMs: 3_000 };
const configFor = (mode: SecAggMode): SecAggConfig => parseSecAggConfig({ mode, maxWeight: SECAGG.maxWeight, quantizationBits: SECAGG.quantizationBits });

interface Fleet {
  coordinator: Coordinator;
  clients: FederatedClient[];
  trainers: DeterministicTrainer[];
  /** Shared body after each model version (0 = initial), captured as the engine commits. */
  weightsAt: Map<number, Float32Array>;
  committed: RoundRecord[];
  abandoned: RoundRecord[];
}

const clientsOpen: FederatedClient[] = [];

/**
 * A secure-aggregation coordinator and n real SDK clients with deterministic trainers, all connected; with
 * `expandMasks`, Node clients (createNodeClient) that hand their share-key, mask and correction work to the worker it
 * gives each device.
 */
async function startFleet(mode: SecAggMode, n: number, rounds: number, expandMasks?: (device: number) => MaskWorkerExpander): Promise<Fleet> {
  const { coordinator, url } = await startCoordinator({
    minClients: n,
    minResults: 3,
    rounds,
    roundTimeoutMs: 8_000,
    secureAggregation: mode,
    secAgg: SECAGG,
    trainingConfig: DEFAULT_TRAINING_CONFIG,
  });
  const weightsAt = new Map([[0, Float32Array.from(coordinator.currentWeights().body)]]);
  const committed: RoundRecord[] = [];
  const abandoned: RoundRecord[] = [];
  coordinator.on('round:committed', (r) => {
    committed.push(r);
    weightsAt.set(r.modelVersion, Float32Array.from(coordinator.currentWeights().body));
  });
  coordinator.on('round:abandoned', (r) => abandoned.push(r));
  const trainers = Array.from({ length: n }, (_, i) => new DeterministicTrainer(i));
  const clients = await Promise.all(
    trainers.map((trainer, i) => {
      const options = { url, clientId: `dev-${i}`, trainer, backend: false as const, reconnect: { enabled: false } };
      return expandMasks ? createNodeClient({ ...options, expandMasks: expandMasks(i) }) : createFederatedClient(options);
    }),
  );
  clientsOpen.push(...clients);
  await Promise.all(clients.map((c) => c.connect()));
  return { coordinator, clients, trainers, weightsAt, committed, abandoned };
}

/** Closes the client as soon as its answer to `stage` has gone out (a dropout between two stages). */
function dropAfter(client: FederatedClient, stage: 'share-keys' | 'masked-input'): Promise<void> {
  return new Promise((resolve) => {
    client.on('secagg:stage', (p) => {
      if (p.stage === stage) setTimeout(() => void client.close().then(resolve), 0);
    });
  });
}

/** Checks version v = FedAvg of what the round's participants' trainers returned (fixtures/fedavg-check.ts). */
function assertFedAvgOf(fleet: Fleet, record: RoundRecord, config: SecAggConfig): void {
  const fits: RecordedFit[] = record.participants.map((id) => {
    const fit = fleet.trainers[Number(id.slice(4))]!.sent.find((s) => s.roundId === record.roundId);
    assert.ok(fit, `${id} trained in round ${record.roundId}`);
    return fit;
  });
  assertSecureFedAvg(fits, fleet.weightsAt.get(record.baseModelVersion)!, fleet.weightsAt.get(record.modelVersion)!, config);
}

describe('end to end: secure aggregation over real Socket.IO', function () {
  this.timeout(30_000);

  afterEach(async () => {
    await Promise.all(clientsOpen.splice(0).map((c) => c.close()));
    await stopAll();
  });

  for (const [mode, n] of [
    ['secagg', 6],
    ['secagg+', 9],
  ] as const) {
    it(`${mode}: ${n} SDK clients complete 2 rounds; each model is global + weighted mean of what they sent, within the quantization bound`, async () => {
      const fleet = await startFleet(mode, n, 2);
      await fleet.coordinator.waitForVersion(2, 25_000);
      assert.equal(fleet.coordinator.status().collector, mode);
      assert.deepEqual(
        fleet.committed.map((r) => r.modelVersion),
        [1, 2],
      );
      for (const record of fleet.committed) {
        assert.equal(record.participants.length, n);
        assert.deepEqual(record.failures, []);
        assert.equal(record.totalExamples > 0, true);
        assertFedAvgOf(fleet, record, configFor(mode));
      }
      assert.notDeepEqual(fleet.weightsAt.get(2), fleet.weightsAt.get(0), 'the model moved');
    });
  }

  const maskWorker = new WorkerMaskExpander();
  after(() => maskWorker.close());
  for (const [mode, n, onWorker] of [
    ['secagg', 7, false],
    ['secagg+', 9, false],
    ['secagg+', 9, true],
  ] as const) {
    const how = onWorker ? ' (Node clients, share keys, masks and unmask corrections made on a worker thread)' : '';
    it(`${mode}: a client that drops after sharing keys and one after sending its masked input; the round completes with the survivors' sum${how}`, async () => {
      const [shareJobs, jobs, corrections]: [string[], string[], Array<[string, number]>] = [[], [], []];
      // The fleet's one worker, counting the jobs each device hands it; a device's close() leaves it running for the rest.
      const onThread = (device: number): MaskWorkerExpander => ({
        expand: (job) => (jobs.push(job.clientId), maskWorker.expand(job)),
        runShareJob: (job) => (shareJobs.push(job.clientId), maskWorker.runShareJob(job)),
        correct: (job) => (corrections.push([`dev-${device}`, job.masks.length]), maskWorker.correct(job)),
        close: () => {},
      });
      const fleet = await startFleet(mode, n, 1, onWorker ? onThread : undefined);
      const [afterKeys, afterInput] = [fleet.clients[0]!, fleet.clients[1]!];
      void dropAfter(afterKeys, 'share-keys');
      void dropAfter(afterInput, 'masked-input');
      await fleet.coordinator.waitForVersion(1, 25_000);
      const record = fleet.committed[0]!;
      // dev-1's masked input is in the sum (its self mask is rebuilt from its neighbours' shares); dev-0's is not.
      assert.deepEqual([...record.participants].sort(), Array.from({ length: n - 1 }, (_, i) => `dev-${i + 1}`).sort());
      assert.deepEqual(
        record.failures.map((f) => [f.clientId, f.code]),
        [['dev-0', 'DISCONNECTED']],
      );
      assert.match(record.failures[0]!.message, /^secagg masked-input:/);
      assert.equal(record.totalExamples > 0, true);
      assertFedAvgOf(fleet, record, configFor(mode));
      // Every client that got its forwarded shares (all but dev-0) handed its mask job over, once.
      if (onWorker) assert.deepEqual(jobs.sort(), Array.from({ length: n - 1 }, (_, i) => `dev-${i + 1}`).sort());
      // Every client made its share keys there, dev-0 included.
      if (onWorker) assert.deepEqual(shareJobs.sort(), Array.from({ length: n }, (_, i) => `dev-${i}`).sort());
      // Every device that answered the unmask stage (dev-2 … dev-8: dev-1 left after its masked input) made its
      // correction for dev-0 (a neighbour of every device: k = 8 of 9) there, one mask each; the exact FedAvg above
      // shows each was right.
      if (onWorker)
        assert.deepEqual(
          corrections.sort(),
          Array.from({ length: n - 2 }, (_, i) => [`dev-${i + 2}`, 1]),
        );
    });
  }

  it('too many dropouts: the round is abandoned, nothing is committed, the model is unchanged', async () => {
    const fleet = await startFleet('secagg', 6, 1); // threshold 4 of 6
    const abandoned = new Promise<RoundRecord>((resolve) => fleet.coordinator.once('round:abandoned', resolve));
    for (const c of fleet.clients.slice(0, 3)) void dropAfter(c, 'share-keys');
    const record = await abandoned;
    assert.equal(record.outcome, 'abandoned');
    assert.match(record.abandonReason ?? '', /threshold 4/);
    assert.deepEqual(record.participants, []);
    assert.equal(record.modelVersion, 0);
    assert.deepEqual([...record.failures.map((f) => f.clientId)].sort(), ['dev-0', 'dev-1', 'dev-2']);
    const status = fleet.coordinator.status();
    assert.equal(status.modelVersion, 0);
    assert.ok(status.roundsAbandoned >= 1);
    assert.equal(fleet.coordinator.history().at(-1)?.outcome, 'abandoned');
    assert.deepEqual(fleet.coordinator.currentWeights().body, fleet.weightsAt.get(0));
    // The survivors did send masked inputs: the coordinator simply never unmasked them.
    assert.ok(fleet.trainers.slice(3).every((t) => t.sent.length === 1));
  });

  it('a secagg coordinator refuses more than 255 clients a round and names secagg+', async () => {
    await assert.rejects(startCoordinator({ secureAggregation: 'secagg', clientsPerRound: 300 }), /at most 255 clients.*secagg\+/);
  });
});

describe('end to end: a hostile coordinator against a real SDK client', function () {
  this.timeout(30_000);
  let http: HttpServer | undefined;
  let io: Server<ClientToServerEvents, ServerToClientEvents> | undefined;
  let victim: FederatedClient | undefined;

  after(async () => {
    await victim?.close();
    await io?.close();
    http?.close();
  });

  it('asks for both shares of one peer and is refused with the code; the masked vector it saw on the wire looks uniform', async () => {
    // A 50k-parameter model and a zero delta: what the client sends is (almost) its mask alone.
    const big: WeightManifest = { tensors: [{ name: 'dense', shape: [50_000], dtype: 'float32', shared: true }] };
    const layout = contributionLayout(big);
    const config = parseSecAggConfig({ mode: 'secagg', maxWeight: 100 });
    const keys = generateKeyPair();
    http = createServer();
    io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { maxHttpBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as { port: number }).port;
    const connected = new Promise<ServerSocket<ClientToServerEvents, ServerToClientEvents>>((resolve) =>
      io!.on('connection', (socket) => {
        socket.emit('session:welcome', {
          clientId: 'victim',
          protocolVersion: PROTOCOL_VERSION,
          coordinatorPublicKey: keys.publicKey,
          fingerprint: fingerprint(keys.publicKey),
          modelVersion: 0,
        });
        resolve(socket);
      }),
    );
    victim = createFederatedClient({
      url: `http://127.0.0.1:${port}`,
      clientId: 'victim',
      trainer: new DeterministicTrainer(1, { zeroDelta: true }),
      backend: false,
      reconnect: { enabled: false },
    });
    await victim.connect();
    const socket = await connected;
    const ask = async <T>(send: () => Promise<unknown>, schema: { parse(v: unknown): T }): Promise<T> => {
      const reply = (await send()) as { ok: boolean; value?: unknown; error?: unknown };
      assert.equal(reply.ok, true, `victim answered ${JSON.stringify(reply.error)}`);
      return schema.parse(reply.value);
    };

    // The hostile server runs the protocol faithfully with three in-process peers until unmasking.
    const roundId = 5;
    const server = new SecAggServer({ roundId, config, vectorLength: layout.vectorLength });
    const peers = new Map(
      ['peer-a', 'peer-b', 'peer-c'].map((id) => [id, new SecAggClient({ clientId: id, roundId, config, vectorLength: layout.vectorLength })]),
    );
    const task = {
      taskId: 'fit-5',
      roundId,
      modelVersion: 0,
      deadline: Date.now() + 20_000,
      config: DEFAULT_TRAINING_CONFIG,
      modelSpec: { name: 'big', options: {} },
      weights: encodeWeights({ manifest: big, body: new Float32Array(50_000) }),
      secureAggregation: { config },
    };
    server.acceptAdvertisement('victim', await ask(() => socket.timeout(10_000).emitWithAck('secagg:advertise', task), packedSchema(advertiseKeysSchema)));
    for (const [id, p] of peers) server.acceptAdvertisement(id, p.advertiseKeys());
    const rosters = server.closeAdvertisement() as { messages: Map<string, Roster> };
    server.acceptShareKeys(
      'victim',
      await ask(() => socket.timeout(10_000).emitWithAck('secagg:roster', pack(rosters.messages.get('victim')!)), packedSchema(shareKeysSchema)),
    );
    for (const [id, p] of peers) server.acceptShareKeys(id, await p.shareKeys(rosters.messages.get(id)!));
    const forwarded = server.closeShareKeys() as { messages: Map<string, ForwardedShares> };
    const masked = await ask(
      () => socket.timeout(10_000).emitWithAck('secagg:forward', pack(forwarded.messages.get('victim')!)),
      packedSchema(maskedInputSchema),
    );
    server.acceptMaskedInput('victim', masked);
    for (const [id, p] of peers) {
      p.receiveShares(forwarded.messages.get(id)!);
      server.acceptMaskedInput(id, p.maskInput(new Uint32Array(layout.vectorLength)));
    }

    // What crossed the wire: uniform-looking words, though the delta under them is all zeros.
    const words = bytesToUint32(masked.masked).subarray(0, layout.deltaLength);
    assert.ok(byteChiSquare(words) < BYTE_CHI_LIMIT, `byte χ² ${byteChiSquare(words).toFixed(1)}`);
    assert.ok(bitChiSquare(words) < BIT_CHI_LIMIT, `bit χ² ${bitChiSquare(words).toFixed(1)}`);
    assert.ok(byteChiSquare(new Uint32Array(layout.deltaLength)) > 10 * BYTE_CHI_LIMIT, 'the statistic tells an unmasked zero vector');

    // Now the attack: peer-a listed as a survivor (reveal its self-mask seed share) and as dropped (its key share).
    const fair = (server.closeMaskedInput() as { messages: Map<string, UnmaskRequest> }).messages.get('victim')!;
    const hostile: UnmaskRequest = { ...fair, dropped: ['peer-a'] };
    const refused = (await socket.timeout(10_000).emitWithAck('secagg:unmask', pack(hostile))) as {
      ok: boolean;
      value?: unknown;
      error?: { code: string; message: string };
    };
    assert.equal(refused.ok, false);
    assert.equal(refused.value, undefined, 'no shares in a refusal');
    assert.equal(refused.error?.code, 'INVALID_PAYLOAD');
    assert.match(refused.error?.message ?? '', /^BOTH_SHARES_REQUESTED: .*peer-a/);
    // The client gave up the round for good: asking again, even fairly, reveals nothing.
    const again = (await socket.timeout(10_000).emitWithAck('secagg:unmask', pack(fair))) as { ok: boolean; error?: { code: string } };
    assert.equal(again.ok, false);
    assert.equal(again.error?.code, 'ROUND_CLOSED');
  });
});
