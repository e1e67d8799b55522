/**
 * How long a device's main thread is held by secure aggregation's mask work when the forwarded shares arrive: the
 * whole `receiveShares` on that thread (browsers, createFederatedClient) against the part `receiveSharesWith` keeps
 * there when a WorkerMaskExpander (createNodeClient's default) runs the rest. Training runs on the main thread, so the
 * held time is what a training there loses (README "Which column ships").
 *   node --import tsx bench/secagg/mask-worker.ts [--clients 100] [--params 100000] [--calls 24]
 * One secagg+ round of --clients clients (auto k and t) is set up to stage 2; then --calls clients take their forwarded
 * shares on each path, one path after the other. Times are wall clock (performance.now): "held" is the synchronous part
 * of the call, what the main thread cannot spend on anything else; "until the mask is in" is to the promise's end.
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
  .parse()
  .opts<{ clients: string; params: string; calls: string }>();
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
for (const [id, roster] of rosters.messages) server.acceptShareKeys(id, await clients.get(id)!.shareKeys(roster));
const forwarded = server.closeShareKeys();
if (forwarded.status !== 'continue') throw new Error(forwarded.reason);
const shares = [...forwarded.messages] as Array<[string, ForwardedShares]>;

const k = shares[0]![1].encryptedShares.length;
const expander = new WorkerMaskExpander();
// Starts the worker (and, from sources, its TypeScript loader) untimed, with a job of the round's shape and fresh keys.
await expander.expand({
  roundId,
  clientId: 'warm-up',
  vectorLength: layout.vectorLength,
  selfMaskSeed: new Uint8Array(32).fill(1),
  maskSecretKey: generateKeyPair().secretKey,
  peers: Array.from({ length: k }, (_, i) => ({ clientId: `peer-${i}`, maskPublicKey: generateKeyPair().publicKey })),
});
const held = { thread: [] as number[], worker: [] as number[] };
const done = { thread: [] as number[], worker: [] as number[] };
const calls = Math.min(Number(opts.calls), Math.floor(shares.length / 2) - 1);
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
await expander.close();

const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
console.log(`${n} clients, k = ${k}, ${layout.vectorLength} words; ${calls} clients per path; medians, wall ms; load ${loadavg()[0]!.toFixed(1)}`);
console.table({
  'receiveShares on the main thread': { 'main thread held': med(held.thread).toFixed(2), 'until the mask is in': med(done.thread).toFixed(2) },
  'receiveSharesWith + WorkerMaskExpander': { 'main thread held': med(held.worker).toFixed(2), 'until the mask is in': med(done.worker).toFixed(2) },
});
