// Worker thread: hosts a slice of the simulated devices, each a real FederatedClient holding
// exactly one user's data, connected to the coordinator over its own Socket.IO connection.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createFederatedClient, type FederatedClient } from '@fedrec/client-sdk/node/index.js';
import { RecsysTrainer } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { historyOf } from '@fedrec/recsys/data/sequences.js';
import type { FleetCommand, FleetWorkerInit, FleetWorkerMessage } from './fleet-messages.js';
import { TrainingGate, gatedTrainer } from './training-gate.js';
import { slowedTrainer } from './device-speed.js';

const init = workerData as FleetWorkerInit;
const port = parentPort!;
const post = (m: FleetWorkerMessage) => port.postMessage(m);

// One training at a time per worker thread (each yields to the event loop every few ms inside), so
// every device's connection stays live while it waits its turn or trains (training-gate.ts).
const gate = new TrainingGate(1);
// How long this thread's event loop was held up: what decides whether pings are answered in time.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
setInterval(() => {
  post({ type: 'lag', maxMs: lag.max / 1e6 });
  lag.reset();
}, 2000).unref();

function deviceFor(user: FleetWorkerInit['users'][number]): FederatedClient {
  const inner = new RecsysTrainer({
    data: user,
    sequence: historyOf(user),
    engine: init.engine,
    seed: init.seed,
    personalization: init.personalization ?? 'none',
  });
  const slowdown = init.slowdown?.[user.user];
  const trainer = slowdown === undefined ? gatedTrainer(inner, gate) : slowedTrainer(inner, gate, slowdown);
  const client = createFederatedClient({
    url: init.url,
    clientId: `user-${user.user}`,
    trainer,
    // The plain-JS engine needs no tfjs backend; 'auto' and 'tfjs' select one as an app would ('auto' then applies the SDK's rule).
    ...(init.engine === 'js' ? { backend: false as const } : {}),
    connectTimeoutMs: 120_000,
    // A simulated device never restarts: its model copy stays in memory only (a second copy per device in
    // its store would double the fleet's memory on large catalogues).
    persistModel: false,
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
  post({ type: 'ready', clients: clients.length, backend: clients[0]?.backend, engine: clients[0]?.engine });
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
