import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, type RoundRecord } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { memoryPrivateStore, RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';
import { curiousCoordinator, type CapturedReply } from '../../bench/privacy/curious-coordinator.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const ciphertextBytes = (r: CapturedReply): number => {
  const envelope = (r.value as { envelope: { ciphertext: Uint8Array } }).envelope;
  return envelope.ciphertext.byteLength;
};

/**
 * Plain mode (`--secure-aggregation off`) with real SDK devices over Socket.IO, everything devices send captured off
 * the wire as the coordinator's parser decodes it (bench/privacy/curious-coordinator.ts): evaluation results travel
 * sealed, and devices that touched very different numbers of items send sealed updates of one size.
 */
describe('end to end: plain mode leaks neither per-device evaluation nor item counts on the wire', function () {
  this.timeout(300_000);
  let replies: CapturedReply[];
  let records: RoundRecord[];
  let trainCounts: Map<string, number>;

  before(async () => {
    const base = leaveOneOut(generateSyntheticInteractions({ users: 6, items: 300, interactionsPerUser: 40, seed: 11 }), { seed: 11 }).users;
    // Different histories: 2 to all ~39 training items, so the unpadded sizes would differ by hundreds of rows.
    const users = base.map((u, i) => ({ ...u, trainItems: u.trainItems.slice(0, [2, 5, 10, 20, 30, 40][i]) }));
    trainCounts = new Map(users.map((u) => [`user-${u.user}`, u.trainItems.length]));
    const modelOptions = recsysModelOptions(users[0]!.numItems);
    const dir = await mkdtemp(join(tmpdir(), 'fedrec-plainpriv-'));
    const curious = curiousCoordinator();
    const coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: users.length,
      clientsPerRound: 'all',
      minResults: users.length,
      rounds: 2,
      evaluateEvery: 1,
      roundTimeoutMs: 240_000,
      pingTimeoutMs: 240_000,
      keyFile: join(dir, 'key.json'),
      modelSpec: { name: 'neumf', options: modelOptions },
      initialWeights: neumfModel.initialWeights(modelOptions, 11),
      trainingConfig: recsysTrainingConfig(),
      secureAggregation: 'off',
      extensions: [curious.extension],
      maxConnectionsPerAddress: 0,
      maxHandshakesPerSecond: 0,
    });
    const clients: FederatedClient[] = [];
    try {
      const finished = new Promise<void>((resolve) => coordinator.once('training:finished', () => resolve()));
      const { url } = await coordinator.start();
      for (const [i, user] of users.entries()) {
        const trainer = new RecsysTrainer({ data: user, engine: 'js', store: memoryPrivateStore(), seed: 11 + i });
        const client = createFederatedClient({ url, clientId: `user-${user.user}`, trainer, backend: false });
        clients.push(client);
        await client.connect();
      }
      await finished;
      records = coordinator.history() as RoundRecord[];
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await coordinator.stop();
      await rm(dir, { recursive: true, force: true });
    }
    replies = curious.replies;
  });

  it('every reply is sealed: no device sends readable metrics, and the coordinator still records HR@10 from the sealed ones', () => {
    assert.equal(records.length, 2);
    for (const r of replies) {
      assert.ok(isObject(r.value) && isObject(r.value['envelope']), `an unsealed reply from ${r.clientId}: ${JSON.stringify(r.value).slice(0, 200)}`);
      assert.deepEqual(Object.keys(r.value), ['envelope'], 'nothing beside the envelope');
    }
    // Two fits and two evaluations per device (one evaluation per round).
    assert.equal(replies.length, 4 * trainCounts.size);
    for (const record of records) {
      assert.equal(record.evaluation?.participants.length, trainCounts.size, JSON.stringify(record.evaluation?.failures));
      const hr10 = record.evaluation!.metrics['hr10'];
      assert.ok(hr10 !== undefined && hr10 >= 0 && hr10 <= 1, `hr10 ${hr10}`);
    }
  });

  it('sealed updates have one size across devices that touched 2 to 40 items, and sealed evaluations one size too', () => {
    // An evaluation result is a count and three metrics (one 1 KiB pad); an update carries item rows.
    const fits = replies.filter((r) => ciphertextBytes(r) > 4096);
    const evaluations = replies.filter((r) => ciphertextBytes(r) <= 4096);
    assert.equal(fits.length, 2 * trainCounts.size);
    assert.equal(evaluations.length, 2 * trainCounts.size);
    const fitSizes = new Set(fits.map(ciphertextBytes));
    assert.equal(fitSizes.size, 1, `sealed update sizes ${[...fitSizes].join(', ')} for item counts ${[...trainCounts.values()].join(', ')}`);
    // On the wire: the same size up to 2 bytes of Socket.IO ack-id framing (the ack id's digit count).
    const wire = fits.map((r) => r.bytes);
    assert.ok(Math.max(...wire) - Math.min(...wire) <= 2, `packet sizes ${wire.join(', ')}`);
    // Padded too: the digits of a metric (ndcg10 0 for a miss, 0.63... for a hit) would show through the size.
    const evalSizes = new Set(evaluations.map(ciphertextBytes));
    assert.equal(evalSizes.size, 1, `evaluation sizes ${[...evalSizes].join(', ')}`);
  });
});
