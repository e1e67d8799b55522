import type { Worker } from 'node:worker_threads';
import type { EngineRequest } from '@fedrec/models/engine-choice.js';
import type { UserData } from '@fedrec/recsys/split.js';
import type { Personalization } from '@fedrec/client-sdk/trainers/pfedrec.js';
import type { FleetCommand, FleetWorkerInit, FleetWorkerMessage } from './fleet-messages.js';
import { startModuleWorker } from '@fedrec/client-sdk/node/module-worker.js';

export interface ClientFleetOptions {
  url: string;
  users: UserData[];
  /** Worker threads to spread the devices over (one per core uses the machine). */
  workers: number;
  engine: EngineRequest;
  seed: number;
  personalization?: Personalization;
  onMessage?: (message: FleetWorkerMessage) => void;
  /** Slowdown factor by user id (device-speed.ts). */
  slowdown?: Record<number, number>;
}

export interface ClientFleet {
  /** Resolves once every device has connected and been welcomed. */
  ready: Promise<{ clients: number; backend: string | undefined; engine: string | undefined }>;
  close(): Promise<void>;
}

/** Splits users round-robin over worker threads, each hosting its devices as real SDK clients. */
export function startClientFleet(o: ClientFleetOptions): ClientFleet {
  const slices: UserData[][] = Array.from({ length: Math.max(1, o.workers) }, () => []);
  o.users.forEach((u, i) => slices[i % slices.length]!.push(u));
  const workers: Worker[] = [];
  const readies = slices
    .filter((users) => users.length > 0)
    .map(
      (users) =>
        new Promise<{ clients: number; backend: string | undefined; engine: string | undefined }>((resolve, reject) => {
          const init: FleetWorkerInit = {
            url: o.url,
            users,
            engine: o.engine,
            seed: o.seed,
            connectConcurrency: 64,
            ...(o.personalization ? { personalization: o.personalization } : {}),
            ...(o.slowdown ? { slowdown: Object.fromEntries(users.map((u) => [u.user, o.slowdown![u.user] ?? 1])) } : {}),
          };
          const worker = startModuleWorker(import.meta.url, 'fleet-worker', init);
          workers.push(worker);
          worker.on('message', (m: FleetWorkerMessage) => {
            if (m.type === 'ready') resolve({ clients: m.clients, backend: m.backend, engine: m.engine });
            if (m.type === 'error') reject(new Error(`simulated devices failed: ${m.message}`));
            o.onMessage?.(m);
          });
          worker.once('error', reject);
        }),
    );
  const ready = Promise.all(readies).then((parts) => ({
    clients: parts.reduce((n, p) => n + p.clients, 0),
    backend: parts[0]?.backend,
    engine: parts[0]?.engine,
  }));
  const close = async () => {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), 10_000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.postMessage({ type: 'close' } satisfies FleetCommand);
          }),
      ),
    );
  };
  return { ready, close };
}
