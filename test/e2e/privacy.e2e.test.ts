import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder, PacketType, type Packet } from 'socket.io-parser';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { memoryPrivateStore, RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import {
  decodeEvaluateMetrics,
  decodeUpdatePayload,
  open,
  sealedEnvelopeSchema,
  sharedSize,
  type EnvelopeBinding,
  type EvaluateMetrics,
  type UpdatePayload,
} from '@fedrec/protocol';

/** True when `needle` (at least 16 bytes) occurs anywhere in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength)) !== -1;
}

/** Every 4-float window of a tensor, as bytes: finding any of them means the tensor leaked. */
function windows(values: Float32Array): Uint8Array[] {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out: Uint8Array[] = [];
  for (let i = 0; i + 4 <= values.length; i++) out.push(bytes.subarray(4 * i, 4 * (i + 4)));
  return out;
}

describe('end to end: no user embedding crosses the wire', function () {
  this.timeout(60_000);
  let dir: string;
  let coordinator: Coordinator | undefined;
  const clients: FederatedClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedrec-privacy-'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends only sealed shared deltas: private rows are absent from every frame and every opened update', async () => {
    const split = leaveOneOut(generateSyntheticInteractions({ users: 4, items: 200, interactionsPerUser: 14, seed: 3 }), { seed: 3 });
    const options = recsysModelOptions(split.numItems);
    const modelSpec = { name: 'neumf', options };
    const initial = neumfModel.initialWeights(options, 5);
    const manifest = neumfModel.manifest(options);
    const privateCount = manifest.tensors.filter((t) => !t.shared).length;
    assert.ok(privateCount >= 2, 'NeuMF has private user embeddings');

    // Everything the clients send, frame by frame, exactly as it arrives at the coordinator.
    const frames: Array<string | Uint8Array> = [];
    const packets: Array<{ socketId: string; packet: Packet }> = [];
    // The binding of each fit task sent (the envelope is authenticated against it), by socket and ack id.
    const bindings = new Map<string, EnvelopeBinding>();
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: split.users.length,
      rounds: 2,
      evaluateEvery: 1,
      keyFile: join(dir, 'key.json'),
      modelSpec,
      initialWeights: initial,
      trainingConfig: recsysTrainingConfig(),
      extensions: [
        {
          name: 'wire-capture',
          attach: ({ io }) => {
            io.on('connection', (socket) => {
              const decoder = new Decoder();
              decoder.on('decoded', (p: Packet) => packets.push({ socketId: socket.id, packet: p }));
              const outgoing = new Decoder();
              outgoing.on('decoded', (p: Packet) => {
                const [event, task] = (p.data ?? []) as [string, { roundId: number; taskId: string; modelVersion: number } | undefined];
                if ((event !== 'round:fit' && event !== 'round:evaluate') || !task || p.id === undefined) return;
                const clientId = (socket.data as { clientId: string }).clientId;
                // Evaluation results are sealed too, bound to kind 'evaluate' (protocol/evaluate-reply.ts).
                const kind = event === 'round:evaluate' ? 'evaluate' : 'fit';
                bindings.set(`${socket.id}:${p.id}`, { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion, clientId, kind });
              });
              socket.conn.on('packetCreate', (p: { type: string; data?: unknown }) => {
                if (p.type === 'message' && p.data !== undefined) outgoing.add(p.data as string | Buffer);
              });
              socket.conn.on('data', (data: unknown) => {
                const frame = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer);
                frames.push(frame);
              });
              socket.conn.on('packet', (p: { type: string; data?: unknown }) => {
                if (p.type === 'message' && p.data !== undefined) decoder.add(p.data as string | Buffer);
              });
            });
          },
        },
      ],
    });
    const finished = new Promise<void>((resolve) => coordinator!.once('training:finished', () => resolve()));
    const { url } = await coordinator.start();

    const stores = split.users.map(() => memoryPrivateStore());
    for (const [i, user] of split.users.entries()) {
      const trainer = new RecsysTrainer({ data: user, engine: 'js', store: stores[i]! });
      const client = createFederatedClient({ url, clientId: `user-${user.user}`, trainer, backend: false });
      clients.push(client);
      await client.connect();
    }
    await finished;

    // Open every sealed update with the coordinator's secret key, as the coordinator does.
    const key = JSON.parse(await readFile(join(dir, 'key.json'), 'utf8')) as { secretKey: string };
    const secretKey = new Uint8Array(Buffer.from(key.secretKey, 'base64'));
    const updates: UpdatePayload[] = [];
    const evaluations: EvaluateMetrics[] = [];
    for (const { socketId, packet: p } of packets) {
      if (p.type !== PacketType.BINARY_ACK && p.type !== PacketType.ACK) continue;
      const envelope = (p.data as Array<{ value?: { envelope?: { senderPublicKey: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array } } }>)[0]?.value
        ?.envelope;
      if (!envelope) continue;
      const binding = bindings.get(`${socketId}:${p.id}`);
      assert.ok(binding, 'each captured envelope answers a captured fit or evaluate task');
      const message = await open(sealedEnvelopeSchema.parse(envelope), binding, secretKey);
      if (binding.kind === 'evaluate') evaluations.push(decodeEvaluateMetrics(message));
      else updates.push(decodeUpdatePayload(message, manifest));
    }
    assert.equal(updates.length, 2 * split.users.length, 'one sealed update per device per round was captured');
    assert.equal(evaluations.length, 2 * split.users.length, 'one sealed evaluation per device per round was captured');

    const privateRows = stores.flatMap((s) => [...s.entries.values()]);
    assert.equal(privateRows.length, privateCount * split.users.length, 'every device kept its private rows');
    for (const update of updates) {
      // Only the shared body travels: its length is exactly the shared size.
      assert.equal(update.delta.length, sharedSize(manifest));
      const plain = new Uint8Array(update.delta.buffer, update.delta.byteOffset, update.delta.byteLength);
      for (const row of privateRows) for (const w of windows(row)) assert.ok(!contains(plain, w), 'a private row appears in an update');
    }
    for (const frame of frames) {
      const bytes = typeof frame === 'string' ? new TextEncoder().encode(frame) : frame;
      for (const row of privateRows) for (const w of windows(row)) assert.ok(!contains(bytes, w), 'a private row appears on the wire');
    }
    // The search itself works: a shared delta's window is found in the plaintext it came from.
    const sample = updates[0]!.delta;
    const nonzero = sample.findIndex((v, i) => v !== 0 && sample[i + 1] !== 0 && sample[i + 2] !== 0 && sample[i + 3] !== 0);
    assert.ok(nonzero >= 0, 'the delta is not all zeros');
    assert.ok(contains(new Uint8Array(sample.buffer), new Uint8Array(sample.buffer, sample.byteOffset + 4 * nonzero, 16)));
    // And the private rows are real, trained values, not their untouched starting point.
    assert.ok(privateRows.some((row) => row.some((v) => v !== 0)));
  });
});
