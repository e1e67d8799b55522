/**
 * How long a device's main thread is held by secure aggregation's device work: stage 1's share keys when the roster
 * arrives (`shareKeys` on that thread against `shareKeysWith` a WorkerMaskExpander, createNodeClient's default,
 * which keeps the roster checks there), stage 2's masks when the forwarded shares arrive (the whole `receiveShares`
 * on that thread, as createFederatedClient runs it, against the part `receiveSharesWith` keeps there) and stage 3's
 * unmask with its correction for the dropped neighbours (`unmask` on that thread against `unmaskWith` the worker,
 * which keeps the request's checks there). Training runs on the main thread, so the held time is what a training
 * there loses (README "Which column ships"); the unmask reply is on the round's critical path.
 *   node --import tsx bench/secagg/mask-worker.ts [--clients 100] [--params 100000] [--calls 24] [--dropout 0.3]
 * One secagg+ round of --clients clients (auto k and t) is set up; --calls clients answer their roster on each path,
 * then (the rest untimed) --calls clients take their forwarded shares on each path, one path after the other; the
 * last --dropout of the clients then drop (they shared keys, they send no masked input), the others (untimed, on
 * the worker) take their shares too, and --calls survivors answer their unmask request on each path. Times
 * are wall clock (performance.now): "held" is the part of the call on the main thread, what it cannot spend on
 * anything else (the synchronous part, plus for share keys the part after the worker's reply, which runs in
 * microtasks); "until done" is to the promise's end.
 */
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { parseSecAggConfig, type ForwardedShares } from '@fedrec/protocol';
import { SecAggClient, SecAggServer, contributionLayout, generateKeyPair } from '@fedrec/secagg';
import { WorkerMaskExpander } from '@fedrec/client-sdk/node/worker-mask-expander.js';
import { clientId } from './population.js';
import { fullGc } from './full-gc.js';

const opts = new Command()
  .option('--clients <n>', 'clients in the round', '100')
  .option('--params <n>', 'parameters per delta', '100000')
  .option('--calls <n>', 'clients measured on each path', '24')
  .option('--dropout <rate>', 'share of the clients that drop after sharing keys', '0.3')
  .parse()
  .opts<{ clients: string; params: string; calls: string; dropout: string }>();
const n = Number(opts.clients);
const layout = contributionLayout({ tensors: [{ name: 'dense', shape: [Number(opts.params)], dtype: 'float32', shared: true }] });
const config = parseSecAggConfig({ mode: 'secagg+' });
const roundId = 1;
const server = new SecAggServer({ roundId, config, vectorLength: layout.vectorLength });
const clients = new Map(
  Array.from({ length: n }, (_, i) => [clientId(i), new SecAggClient({ clientId: clientId(i), roundId, config, vectorLength: layout.vectorLength })]),
);
for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
const rosters = server.closeAdvertisement();
if (rosters.status !== 'continue') throw new Error(rosters.reason);
const calls = Math.min(Number(opts.calls), Math.floor(n / 2) - 1);
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
const paths = () => ({ held: { thread: [] as number[], worker: [] as number[] }, done: { thread: [] as number[], worker: [] as number[] } });
const row = (m: ReturnType<typeof paths>, path: 'thread' | 'worker') => ({
  'main thread held': med(m.held[path]).toFixed(2),
  'until done': med(m.done[path]).toFixed(2),
});

/**
 * Times a call that hands its job to the worker (`job` on the worker path, wrapped): "held" is its synchronous part
 * plus what runs after the worker's reply (in microtasks), "until done" to its end; recorded when `counted`.
 */
async function timedOnWorker<J, R, T>(
  into: ReturnType<typeof paths>,
  counted: boolean,
  job: (j: J) => Promise<R>,
  call: (run: (j: J) => Promise<R>) => Promise<T>,
): Promise<T> {
  let replied = 0;
  const run = async (j: J) => {
    const result = await job(j);
    replied = performance.now();
    return result;
  };
  const t = performance.now();
  const pending = call(run);
  const sync = performance.now() - t;
  const value = await pending;
  const end = performance.now();
  if (counted) {
    into.held.worker.push(sync + (end - replied));
    into.done.worker.push(end - t);
  }
  return value;
}

const expander = new WorkerMaskExpander();
// Starts the worker (and, from sources, its TypeScript loader) untimed.
await expander.expand({
  roundId,
  clientId: 'warm-up',
  vectorLength: 4,
  selfMaskSeed: new Uint8Array(32).fill(1),
  maskSecretKey: generateKeyPair().secretKey,
  peers: [],
});

// Stage 1, one path after the other, a full collection between (untimed); the first call of each path warms it.
const rosterList = [...rosters.messages];
const sharing = paths();
fullGc();
for (const [i, [id, roster]] of rosterList.slice(0, calls + 1).entries()) {
  const t = performance.now();
  const reply = await clients.get(id)!.shareKeys(roster);
  if (i > 0) sharing.held.thread.push(performance.now() - t);
  server.acceptShareKeys(id, reply);
}
sharing.done.thread = sharing.held.thread;
fullGc();
for (const [i, [id, roster]] of rosterList.slice(calls + 1, 2 * calls + 2).entries()) {
  const reply = await timedOnWorker(sharing, i > 0, expander.runShareJob, (run) => clients.get(id)!.shareKeysWith(roster, run));
  server.acceptShareKeys(id, reply);
}
for (const [id, roster] of rosterList.slice(2 * calls + 2)) server.acceptShareKeys(id, await clients.get(id)!.shareKeys(roster));
const k1 = rosterList[0]![1].neighbours.length;

const forwarded = server.closeShareKeys();
if (forwarded.status !== 'continue') throw new Error(forwarded.reason);
const shares = [...forwarded.messages] as Array<[string, ForwardedShares]>;
const k = shares[0]![1].encryptedShares.length;
// A mask job of the round's shape, untimed: the worker's mask code warmed too.
await expander.expand({
  roundId,
  clientId: 'warm-up',
  vectorLength: layout.vectorLength,
  selfMaskSeed: new Uint8Array(32).fill(1),
  maskSecretKey: generateKeyPair().secretKey,
  peers: Array.from({ length: k }, (_, i) => ({ clientId: `peer-${i}`, maskPublicKey: generateKeyPair().publicKey })),
});
const masking = paths();
const { held, done } = masking;
// One path after the other, a full collection between (untimed): each pays for its own garbage only. The first call
// of each path warms its code and is not counted.
const inThread = shares.slice(0, calls + 1);
const onWorker = shares.slice(calls + 1, 2 * calls + 2);
fullGc();
for (const [i, [id, fwd]] of inThread.entries()) {
  const t = performance.now();
  clients.get(id)!.receiveShares(fwd);
  const ms = performance.now() - t;
  if (i === 0) continue;
  held.thread.push(ms);
  done.thread.push(ms);
}
fullGc();
for (const [i, [id, fwd]] of onWorker.entries()) {
  const t = performance.now();
  const pending = clients.get(id)!.receiveSharesWith(fwd, expander.expand);
  const sync = performance.now() - t;
  await pending;
  if (i === 0) continue;
  held.worker.push(sync);
  done.worker.push(performance.now() - t);
}

// Stage 3: the last --dropout of the clients drop after sharing keys; the rest (untimed, on the worker) mask a zero
// input, so every survivor's unmask request asks it to correct for its dropped neighbours.
const dropped = new Set(shares.slice(n - Math.round(Number(opts.dropout) * n)).map(([id]) => id));
for (const [id, fwd] of shares.slice(2 * calls + 2)) if (!dropped.has(id)) await clients.get(id)!.receiveSharesWith(fwd, expander.expand);
const zeros = new Uint32Array(layout.vectorLength);
for (const [id] of shares) if (!dropped.has(id)) server.acceptMaskedInput(id, clients.get(id)!.maskInput(zeros));
const requests = server.closeMaskedInput();
if (requests.status !== 'continue') throw new Error(requests.reason);
const unmasks = [...requests.messages];
const droppedNeighbours = med(unmasks.map(([, request]) => request.dropped.length));
// A correction job of the round's shape, untimed: the worker's correction code warmed too.
await expander.correct({
  vectorLength: layout.vectorLength,
  masks: Array.from({ length: droppedNeighbours }, () => ({ seed: new Uint8Array(32).fill(2), sign: 1 })),
});
const unmasking = paths();
const unmaskCalls = Math.min(calls, Math.floor(unmasks.length / 2) - 1);
fullGc();
for (const [i, [id, request]] of unmasks.slice(0, unmaskCalls + 1).entries()) {
  const t = performance.now();
  clients.get(id)!.unmask(request);
  const ms = performance.now() - t;
  if (i === 0) continue;
  unmasking.held.thread.push(ms);
  unmasking.done.thread.push(ms);
}
fullGc();
for (const [i, [id, request]] of unmasks.slice(unmaskCalls + 1, 2 * unmaskCalls + 2).entries()) {
  await timedOnWorker(unmasking, i > 0, expander.correct, (run) => clients.get(id)!.unmaskWith(request, run));
}
await expander.close();

console.log(
  `${n} clients, k = ${k1} (share keys) and ${k} (masks), ${layout.vectorLength} words; ${calls} clients per path (${unmaskCalls} for unmask, ` +
    `${dropped.size} dropped after share keys: median ${droppedNeighbours} dropped neighbours a survivor); medians, wall ms; load ${loadavg()[0]!.toFixed(1)}`,
);
console.table({
  'shareKeys on the main thread': row(sharing, 'thread'),
  'shareKeysWith + WorkerMaskExpander.runShareJob': row(sharing, 'worker'),
  'receiveShares on the main thread': row(masking, 'thread'),
  'receiveSharesWith + WorkerMaskExpander.expand': row(masking, 'worker'),
  'unmask on the main thread': row(unmasking, 'thread'),
  'unmaskWith + WorkerMaskExpander.correct': row(unmasking, 'worker'),
});
