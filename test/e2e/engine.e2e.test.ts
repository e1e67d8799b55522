import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createCoordinator, type Coordinator, type RoundRecord } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { logisticModel } from '@fedrec/models/logistic.js';
import { DEFAULT_TRAINING_CONFIG } from '@fedrec/protocol';
import { logisticDevice } from './fixtures/logistic-device.js';
import type { RecordingTrainer, SentUpdate } from './fixtures/recording-trainer.js';

const spec = { name: 'logistic', options: { features: 8 } };
// Round ids count from 0: the remote client takes part twice, then dies during the third round.
const STALL_ROUND = 2;

/** Starts the killable client in its own process and collects what it says on stdout. */
function startChildClient(url: string, clientId: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./fixtures/killable-client.ts', import.meta.url).pathname, url, clientId, String(STALL_ROUND)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const sent: SentUpdate[] = [];
  const waiters = new Map<string, () => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('SENT ')) sent.push(JSON.parse(line.slice(5)) as SentUpdate);
    const word = line.split(' ')[0]!;
    waiters.get(word)?.();
  });
  const when = (word: string) => new Promise<void>((resolve) => waiters.set(word, resolve));
  return { child, sent, when };
}

describe('end to end: coordinator and 5 Node clients over real Socket.IO', function () {
  this.timeout(120_000);
  let coordinator: Coordinator;
  const clients: FederatedClient[] = [];
  let child: ChildProcess | undefined;

  after(async () => {
    child?.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.close()));
    await coordinator?.stop();
  });

  it('runs 3 rounds: FedAvg of what clients sent, and a client killed mid-round is a failure', async () => {
    const initial = logisticModel.initialWeights(spec.options, 7);
    coordinator = createCoordinator({
      port: 0,
      host: '127.0.0.1',
      minClients: 5,
      clientsPerRound: 'all',
      minResults: 4,
      rounds: 3,
      roundTimeoutMs: 30_000,
      modelSpec: spec,
      initialWeights: initial,
      trainingConfig: { ...DEFAULT_TRAINING_CONFIG, learningRate: 0.3, batchSize: 8, localEpochs: 2 },
      // The exact FedAvg of what was sent is checked below; the norm bound and weight cap have their own tests.
      updatePolicy: { normBound: 'off', weightCap: 'off', rowNormBound: 'off' },
    });
    // Weights after each committed version, captured as the engine commits them.
    const weightsAt = new Map<number, Float32Array>([[0, Float32Array.from(initial.body)]]);
    const records: RoundRecord[] = [];
    coordinator.on('round:committed', (record) => {
      records.push(record);
      weightsAt.set(record.modelVersion, Float32Array.from(coordinator.currentWeights().body));
    });
    const { url } = await coordinator.start();

    const trainers: RecordingTrainer[] = [];
    for (let i = 0; i < 4; i++) {
      const { store, trainer } = await logisticDevice(i + 1, 20 + 15 * i);
      trainers.push(trainer);
      const client = createFederatedClient({ url, clientId: `device-${i}`, trainer, store });
      clients.push(client);
      await client.connect();
    }
    const remote = startChildClient(url, 'device-killed');
    child = remote.child;
    // Kill the remote client the moment it starts training in the stall round.
    void remote.when('TRAINING').then(() => child!.kill('SIGKILL'));

    await coordinator.waitForVersion(3, 100_000);
    assert.deepEqual(
      records.map((r) => r.modelVersion),
      [1, 2, 3],
    );

    const sentBy = new Map<string, SentUpdate[]>(trainers.map((t, i) => [`device-${i}`, t.sent]));
    sentBy.set('device-killed', remote.sent);
    for (const record of records) {
      const before = weightsAt.get(record.modelVersion - 1)!;
      const after = weightsAt.get(record.modelVersion)!;
      const updates = record.participants.map((id) => {
        const update = sentBy.get(id)!.find((u) => u.roundId === record.roundId);
        assert.ok(update, `${id} took part in round ${record.roundId} but recorded no update`);
        return update;
      });
      const total = updates.reduce((n, u) => n + u.numExamples, 0);
      assert.equal(record.totalExamples, total);
      for (let j = 0; j < before.length; j++) {
        const mean = updates.reduce((s, u) => s + u.numExamples * u.delta[j]!, 0) / total;
        assert.ok(Math.abs(after[j]! - (before[j]! + mean)) < 1e-5, `round ${record.roundId} weight ${j}: ${after[j]} vs ${before[j]! + mean}`);
      }
      assert.ok(
        updates.some((u) => u.delta.some((d) => d !== 0)),
        'clients really trained',
      );
    }

    const [first, second, third] = records as [RoundRecord, RoundRecord, RoundRecord];
    assert.equal(third.roundId, STALL_ROUND);
    for (const full of [first, second]) {
      assert.equal(full.participants.length, 5);
      assert.ok(full.participants.includes('device-killed'));
    }
    // The killed client is a failure of its round, which still commits with the other four.
    assert.equal(third.participants.length, 4);
    assert.ok(!third.participants.includes('device-killed'));
    const killed = third.failures.find((f) => f.clientId === 'device-killed');
    assert.ok(killed, 'the killed client is recorded as a failure');
    assert.equal(killed.code, 'DISCONNECTED');
    assert.ok(third.durationMs < 30_000, 'the round did not wait for its deadline');
    assert.equal(coordinator.status().modelVersion, 3);
  });
});
