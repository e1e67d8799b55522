import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import { next, stopAll } from '../coordinator/helpers.js';
import { DeterministicTrainer } from './fixtures/deterministic-trainer.js';
import { assertOneSlotAtATime, startOneSlotSecAgg } from './fixtures/one-slot-secagg.js';

// SecAgg+ masked inputs go through upload slots like plain updates (issue 12): the fit task says
// `uploadSlot`, each SDK device asks for a slot of its masked input's size before answering the masked-input
// stage, and the coordinator refuses a masked input without one. With a budget that fits one masked input at a
// time, the devices wait for each other's slots and the round still completes with every one of them.

describe('e2e: SecAgg+ masked inputs paced by upload slots', function () {
  this.timeout(60_000);
  const clients: FederatedClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stopAll();
  });

  it('with a one-slot budget, every masked input waits for its slot and the round completes with all devices', async () => {
    const n = 5;
    const { coordinator, url, collector } = await startOneSlotSecAgg(n, 10_000);
    const committed = next(coordinator, 'round:committed', 50_000);
    clients.push(
      ...Array.from({ length: n }, (_, i) =>
        createFederatedClient({ url, clientId: `dev-${i}`, trainer: new DeterministicTrainer(i), backend: false, reconnect: { enabled: false } }),
      ),
    );
    await Promise.all(clients.map((c) => c.connect()));
    const record = await committed;
    assert.deepEqual([...record.participants].sort(), ['dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4']);
    assert.deepEqual(record.failures, []);
    assertOneSlotAtATime(collector);
  });
});
