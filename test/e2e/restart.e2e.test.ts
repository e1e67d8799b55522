import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, type Coordinator } from '@fedrec/coordinator';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { logisticModel } from '@fedrec/models/logistic.js';
import { logisticDevice } from './fixtures/logistic-device.js';

const spec = { name: 'logistic', options: { features: 8 } };

describe('end to end: a restarted coordinator resumes and pinned clients come back', function () {
  this.timeout(120_000);
  let dir: string;
  const coordinators: Coordinator[] = [];
  const clients: FederatedClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedrec-restart-'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const c of coordinators) await c.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function start(port: number, rounds: number): Coordinator {
    const coordinator = createCoordinator({
      port,
      host: '127.0.0.1',
      minClients: 2,
      minResults: 2,
      rounds,
      roundTimeoutMs: 20_000,
      checkpointDir: dir,
      modelSpec: spec,
      initialWeights: logisticModel.initialWeights(spec.options, 1),
    });
    coordinators.push(coordinator);
    return coordinator;
  }

  it('keeps its key, version, weights and history, and continues training', async () => {
    const first = start(0, 2);
    const { port, url } = await first.start();
    const fingerprint = first.status().fingerprint;
    assert.ok(fingerprint, 'a coordinator publishes its key fingerprint');
    for (let i = 0; i < 2; i++) {
      const { store, trainer } = await logisticDevice(10 + i, 30);
      // Pinned to the first coordinator's key: a restarted coordinator must present the same one.
      const client = createFederatedClient({
        url,
        clientId: `pinned-${i}`,
        trainer,
        store,
        pinnedFingerprint: fingerprint,
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
      });
      clients.push(client);
      await client.connect();
    }
    await first.waitForVersion(2, 60_000);
    const weightsBefore = Float32Array.from(first.currentWeights().body);
    const historyBefore = first.history().length;
    await first.stop();

    const second = start(port, 4);
    await second.start();
    assert.equal(second.status().fingerprint, fingerprint);
    assert.equal(second.status().modelVersion, 2);
    assert.deepEqual(Array.from(second.currentWeights().body), Array.from(weightsBefore));
    assert.equal(second.history().length, historyBefore);
    // The counters the dashboard shows go on from the checkpoint rather than from 0.
    assert.equal(second.status().roundsCommitted, first.history().filter((r) => r.outcome === 'committed').length);
    assert.equal(second.status().roundsCommitted + second.status().roundsAbandoned, second.status().nextRoundId);

    // The same clients reconnect on their own, trust the same key, and the rounds go on.
    await second.waitForVersion(4, 60_000);
    const resumed = second
      .history()
      .filter((r) => r.outcome === 'committed')
      .slice(-2);
    assert.deepEqual(
      resumed.map((r) => r.modelVersion),
      [3, 4],
    );
    for (const r of resumed) assert.deepEqual([...r.participants].sort(), ['pinned-0', 'pinned-1']);
    assert.ok(clients.every((c) => c.status.state === 'ready'));
  });
});
