// Worker thread: hosts a slice of the simulated devices, each a real FederatedClient holding
// exactly one user's data, connected to the coordinator over its own Socket.IO connection.
import { parentPort, workerData } from 'node:worker_threads';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import type { FleetCommand, FleetWorkerInit, FleetWorkerMessage } from './fleet-messages.js';

const init = workerData as FleetWorkerInit;
const port = parentPort!;
const post = (m: FleetWorkerMessage) => port.postMessage(m);

function deviceFor(user: FleetWorkerInit['users'][number]): FederatedClient {
  const trainer = new RecsysTrainer({ data: user, engine: init.engine, seed: init.seed });
  const client = createFederatedClient({
    url: init.url,
    clientId: `user-${user.user}`,
    trainer,
    // The plain-JS engine needs no tfjs backend; the tfjs engine picks the best one here.
    ...(init.engine === 'js' ? { backend: false as const } : {}),
    connectTimeoutMs: 120_000,
  });
  client.on('fit:done', (e) => post({ type: 'fit', roundId: e.roundId, bytesSent: e.bytesSent }));
  client.on('task:failed', (e) => post({ type: 'failed', roundId: e.roundId, code: e.code, message: e.message }));
  return client;
}

async function main(): Promise<void> {
  const clients = init.users.map(deviceFor);
  for (let i = 0; i < clients.length; i += init.connectConcurrency) {
    await Promise.all(clients.slice(i, i + init.connectConcurrency).map((c) => c.connect()));
  }
  post({ type: 'ready', clients: clients.length, backend: clients[0]?.backend });
  port.on('message', (command: FleetCommand) => {
    if (command.type !== 'close') return;
    // allSettled: one client failing to close must not keep the pool waiting for 'closed'.
    void Promise.allSettled(clients.map((c) => c.close())).then(() => {
      post({ type: 'closed' });
      port.close();
    });
  });
}

main().catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
