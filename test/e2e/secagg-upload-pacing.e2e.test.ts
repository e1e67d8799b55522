import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk';
import { SecAggFitCollector } from '@fedrec/coordinator/secagg-fit-collector.js';
import { DEFAULT_TRAINING_CONFIG, parseSecAggConfig } from '@fedrec/protocol';
import { next, startCoordinator, stopAll } from '../coordinator/helpers.js';
import { DeterministicTrainer } from './fixtures/deterministic-trainer.js';

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
    const collector = new SecAggFitCollector({
      config: parseSecAggConfig({ mode: 'secagg+', maxWeight: 100, quantizationBits: 22 }),
      advertiseTimeoutMs: 10_000,
      shareKeysTimeoutMs: 10_000,
      unmaskTimeoutMs: 10_000,
      // 1 byte: whatever a masked input's size, one slot at a time (a request larger than the budget goes alone).
      uploadPacing: { budgetBytes: 1, holdMs: 30_000 },
    });
    const { coordinator, url } = await startCoordinator({
      minClients: n,
      minResults: n,
      rounds: 1,
      roundTimeoutMs: 30_000,
      fitCollector: collector,
      trainingConfig: DEFAULT_TRAINING_CONFIG,
    });
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
    const slots = collector.uploadSlots!;
    assert.ok(slots, 'the masked-input stage was paced');
    assert.equal(slots.peakSlots, 1, 'never two masked inputs granted at once: each waited for the one before');
    // Each grant was for one masked input, of the round's exact size.
    assert.ok(slots.peakBytes > 0 && slots.peakBytes % 4 === 0, `peak bytes ${slots.peakBytes}`);
    assert.equal(slots.bytesGranted, 0, 'every slot released once its input was taken');
  });
});
