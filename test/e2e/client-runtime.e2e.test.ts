import assert from 'node:assert/strict';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import type { UserData } from '@fedrec/recsys/split.js';
import { connectErrorData, connectProving, deviceKeyOf, startCoordinator, stopAll, until } from '../coordinator/helpers.js';

const user: UserData = { user: 1, numItems: 20, trainItems: Int32Array.from([1, 2, 3]), testItem: 4, testNegatives: Int32Array.from([5, 6]) };

/**
 * Connects a raw Socket.IO client with a device key and these extra handshake fields (it answers the
 * coordinator's challenge); resolves with the refusal's data, or null when welcomed.
 */
function handshake(url: string, clientId: string, extra: Record<string, unknown> = {}): Promise<unknown> {
  const socket = connectProving(url, clientId, deviceKeyOf(clientId), extra);
  return new Promise((resolve) => {
    socket.once('session:welcome', () => {
      resolve(null);
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(connectErrorData(err));
    });
  }).finally(() => setTimeout(() => socket.close(), 200));
}

describe('end to end: clients announce the engine and backend they run', function () {
  this.timeout(30_000);
  const clients: FederatedClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stopAll();
  });

  it('the SDK names its engine in status and the handshake; the coordinator counts clients by it', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    // No tfjs backend selected (backend: false): the rule's 'auto' is the plain-JS engine.
    const client = createFederatedClient({ url, clientId: 'phone-1', trainer: new RecsysTrainer({ data: user }), backend: false });
    clients.push(client);
    await client.connect();
    assert.equal(client.engine, 'js');
    assert.equal(client.status.engine, 'js');
    assert.equal(client.status.backend, undefined);
    assert.equal(await handshake(url, 'old-sdk'), null, 'runtime is optional');
    await until(() => coordinator.status().connectedClients === 2, 5_000, 'both registered');
    assert.deepEqual(coordinator.status().clientRuntimes, { 'js/none': 1, unreported: 1 });
  });

  it('refuses a malformed runtime with INVALID_PAYLOAD and registers nothing', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    for (const runtime of [
      { engine: 'x'.repeat(33), backend: 'wasm' },
      { engine: 'js' },
      { engine: 'js', backend: '<script>' },
      { engine: 'js', backend: 'wasm', extra: 1 },
      'js',
    ]) {
      const data = await handshake(url, 'bad', { runtime });
      assert.equal((data as { code?: string } | null)?.code, 'INVALID_PAYLOAD', JSON.stringify(runtime));
    }
    assert.equal(coordinator.status().connectedClients, 0);
    assert.deepEqual(coordinator.status().clientRuntimes, {});
  });
});
