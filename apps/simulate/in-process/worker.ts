// A simulation worker thread: trains and evaluates its shard of one-user clients in process.
import { parentPort, workerData } from 'node:worker_threads';
import type { UserData } from '@fedrec/recsys/split.js';
import { evaluateUsers } from '@fedrec/recsys/evaluate.js';
import { localRound } from './federated.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

const init = workerData as WorkerInit;
const byUser = new Map<number, UserData>(init.users.map((u) => [u.user, u]));
const local = localRound(init.arch, init.options, new Map());

parentPort!.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      const shared = new Map(req.shared);
      if (req.kind === 'fit') {
        const sums = await local.run(
          req.round,
          req.users.map((u) => byUser.get(u)!),
          shared,
        );
        const reply: WorkerReply = { kind: 'fit', sums };
        parentPort!.postMessage(reply);
      } else {
        const e = evaluateUsers(init.arch, shared, local.privateOf, init.users);
        const reply: WorkerReply = { kind: 'evaluate', hr: e.hr10 * e.users, ndcg: e.ndcg10 * e.users, loss: e.loss * e.users, users: e.users };
        parentPort!.postMessage(reply);
      }
    } catch (err) {
      const reply: WorkerReply = { kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      parentPort!.postMessage(reply);
    }
  })();
});
