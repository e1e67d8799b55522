// Node-only: spreads the in-process simulation's clients over worker threads (one per core).
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '@fedrec/client-sdk/node/module-worker.js';
import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import type { UserData } from '@fedrec/recsys/split.js';
import { ncfManifest } from '@fedrec/models/ncf/arch.js';
import { emptyRoundSums, mergeRoundSums } from './round-sums.js';
import type { EvalSummary } from '@fedrec/recsys/evaluate.js';
import type { FederatedOptions, RoundRunner } from './federated.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** Starts worker.ts (through tsx when running from TypeScript sources). */
function startWorker(init: WorkerInit): Worker {
  return startModuleWorker(import.meta.url, 'worker', init);
}

export interface SimulationPool {
  runner: RoundRunner;
  evaluate(shared: Map<string, Float32Array>): Promise<EvalSummary>;
  close(): Promise<void>;
}

/** Each worker owns a fixed shard of users (user index mod workers) and their private rows. */
export function createSimulationPool(a: NcfArch, users: UserData[], o: FederatedOptions, workers: number): SimulationPool {
  const shardOf = (user: number) => user % workers;
  const manifest = ncfManifest(a);
  const pool = Array.from({ length: workers }, (_, w) => {
    const init: WorkerInit = { arch: a, options: o, users: users.filter((u) => shardOf(u.user) === w) };
    return startWorker(init);
  });
  const ask = (w: number, req: WorkerRequest) =>
    new Promise<WorkerReply>((resolve, reject) => {
      const worker = pool[w]!;
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('error', onError);
        if (reply.kind === 'error') reject(new Error(reply.message));
        else resolve(reply);
      });
      worker.postMessage(req);
    });
  const sharedList = (shared: Map<string, Float32Array>) => [...shared];
  return {
    runner: async (round, chosen, shared) => {
      const list = sharedList(shared);
      const replies = await Promise.all(
        pool.map((_, w) => ask(w, { kind: 'fit', round, users: chosen.filter((u) => shardOf(u.user) === w).map((u) => u.user), shared: list })),
      );
      const total = emptyRoundSums(manifest);
      for (const r of replies) if (r.kind === 'fit') mergeRoundSums(total, r.sums);
      return total;
    },
    evaluate: async (shared) => {
      const list = sharedList(shared);
      const replies = await Promise.all(pool.map((_, w) => ask(w, { kind: 'evaluate', shared: list })));
      let hr = 0;
      let ndcg = 0;
      let loss = 0;
      let n = 0;
      for (const r of replies) {
        if (r.kind !== 'evaluate') continue;
        hr += r.hr;
        ndcg += r.ndcg;
        loss += r.loss;
        n += r.users;
      }
      return { hr10: hr / (n || 1), ndcg10: ndcg / (n || 1), loss: loss / (n || 1), users: n };
    },
    close: async () => {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
