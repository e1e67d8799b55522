// `npm run bench -- cluster [--quick] [--clients N] [--per-round N] [--rounds N] [--features N]`
// 1 node vs 3 nodes over one real redis-server, on loopback, in one run: the nodes are the real CLI with
// --redis (separate processes), the clients are spread over child processes (each answers at once with a
// sealed update of a logistic model of `features` weights). Prints, per setup, the median round wall-clock,
// updates per second (accepted / round duration), and each node's CPU per update it handled. On a 2-core
// machine the clients, Redis and every node share the same two cores, so 3 nodes cannot be 3x faster here:
// read the CPU per update to extrapolate to one core per node.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CheckpointStore } from '@fedrec/coordinator/checkpoint-store.js';
import { silentLogger } from '@fedrec/coordinator/logger.js';
import { spawnNode } from '../scripts/cluster-node-process.js';
import type { NodeProcess } from '../scripts/cluster-node-process.js';
import { startRedisServer } from '../scripts/redis-server.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    'per-round': { type: 'string' },
    rounds: { type: 'string' },
    features: { type: 'string', default: '4096' },
    'client-processes': { type: 'string', default: '4' },
  },
});
const quick = values.quick;
const CLIENTS = Number(values.clients ?? (quick ? 500 : 5000));
const PER_ROUND = Number(values['per-round'] ?? (quick ? 100 : 1000));
const ROUNDS = Number(values.rounds ?? (quick ? 3 : 5));
const FEATURES = Number(values.features);
const CLIENT_PROCS = Number(values['client-processes']);
const here = fileURLToPath(new URL('.', import.meta.url));
const TICK_MS = 10; // /proc/<pid>/stat counts clock ticks of 1/100 s on Linux

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based) → indices 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface SetupResult {
  nodes: number;
  roundMs: number[];
  updatesPerSecond: number[];
  perNode: Array<{ nodeId: string; cpuMs: number; updates: number }>;
}

async function runSetup(redisUrl: string, nodeCount: number): Promise<SetupResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fedrec-bench-cluster-'));
  const args = [
    '--model',
    'logistic',
    '--model-options',
    JSON.stringify({ features: FEATURES }),
    '--min-clients',
    String(CLIENTS),
    '--clients-per-round',
    String(PER_ROUND),
    '--min-results',
    '1',
    '--rounds',
    String(ROUNDS),
    '--round-timeout-ms',
    '120000',
    '--round-interval-ms',
    '0',
    '--evaluate-every',
    '0',
    '--norm-bound',
    'off',
    '--weight-cap',
    'off',
    '--max-connections-per-address',
    '0',
    '--max-handshakes-per-second',
    '0',
    '--log-lines-per-client-per-minute',
    '0',
    '--handshake-timeout-ms',
    '120000',
    '--log-level',
    'info',
  ];
  const nodes: NodeProcess[] = [];
  const children: ChildProcess[] = [];
  try {
    nodes.push(await spawnNode(redisUrl, dir, `n1of${nodeCount}`, args));
    nodes.push(...(await Promise.all(Array.from({ length: nodeCount - 1 }, (_, i) => spawnNode(redisUrl, dir, `n${i + 2}of${nodeCount}`, args)))));
    const rounds: Array<{ durationMs: number; accepted: number }> = [];
    let cpuAtStart: number[] | undefined;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    for (const n of nodes) {
      n.onLog = (e) => {
        if (e['msg'] === 'round started' && cpuAtStart === undefined) cpuAtStart = nodes.map((m) => cpuMs(m.child.pid!));
        if (e['msg'] === 'round abandoned; model unchanged') console.log(`    ${n.nodeId}: round abandoned (${String(e['reason'])})`);
        if (e['msg'] === 'round committed') {
          console.log(`    ${n.nodeId}: round committed, ${String(e['accepted'])} updates in ${String(e['durationMs'])} ms`);
          rounds.push({ durationMs: Number(e['durationMs']), accepted: Number(e['accepted']) });
          if (rounds.length >= ROUNDS) done();
        }
      };
    }
    const urls = nodes.map((n) => n.url);
    const started = Date.now();
    const per = Math.ceil(CLIENTS / CLIENT_PROCS);
    await Promise.all(
      Array.from({ length: CLIENT_PROCS }, (_, p) => {
        const from = p * per;
        const to = Math.min(CLIENTS, from + per);
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(here, 'cluster', 'client-child.ts'), JSON.stringify({ urls, from, to, floats: FEATURES + 1 })],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        children.push(child);
        return new Promise<void>((resolve, reject) => {
          createInterface({ input: child.stdout! }).on('line', (line) => {
            if (line.startsWith('ready')) resolve();
          });
          child.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
        });
      }),
    );
    console.log(`  ${nodeCount} node(s): ${CLIENTS} clients connected in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await finished;
    const cpuAtEnd = nodes.map((m) => cpuMs(m.child.pid!));
    // Which node collected each update: client i is on node i % nodeCount; participants from the checkpoint's history.
    const store = new CheckpointStore(dir, 3, silentLogger);
    const last = await store.loadLatest();
    const updates = new Array<number>(nodeCount).fill(0);
    for (const r of last?.history ?? []) if (r.outcome === 'committed') for (const id of r.participants) updates[Number(id.slice(6)) % nodeCount]! += 1;
    return {
      nodes: nodeCount,
      roundMs: rounds.map((r) => r.durationMs),
      updatesPerSecond: rounds.map((r) => r.accepted / (r.durationMs / 1000)),
      perNode: nodes.map((n, i) => ({ nodeId: n.nodeId, cpuMs: cpuAtEnd[i]! - (cpuAtStart?.[i] ?? 0), updates: updates[i]! })),
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.kill9()));
    await rm(dir, { recursive: true, force: true });
  }
}

const redisServer = await startRedisServer();
const redis = new Redis(redisServer.url);
try {
  console.log(
    `cluster bench: ${CLIENTS} connected clients, ${PER_ROUND} per round, ${ROUNDS} rounds, logistic model of ${FEATURES + 1} floats (${((FEATURES + 1) * 4) / 1024} KiB updates), ${CLIENT_PROCS} client processes`,
  );
  const results: SetupResult[] = [];
  for (const n of [1, 3]) {
    await redis.flushall();
    results.push(await runSetup(redisServer.url, n));
  }
  console.log('\nsetup    round wall-clock (median)  updates/s (median)  per-node CPU per update');
  for (const r of results) {
    const perNode = r.perNode
      .map((p) => `${p.nodeId} ${p.updates ? (p.cpuMs / p.updates).toFixed(2) : '-'} ms (${p.updates} upd, ${(p.cpuMs / 1000).toFixed(1)} s)`)
      .join('; ');
    console.log(
      `${String(r.nodes).padEnd(2)} node  ${median(r.roundMs).toFixed(0).padStart(8)} ms               ${median(r.updatesPerSecond).toFixed(0).padStart(8)}            ${perNode}`,
    );
  }
  const [one, three] = results;
  console.log(
    `\n3 nodes vs 1: updates/s x${(median(three!.updatesPerSecond) / median(one!.updatesPerSecond)).toFixed(2)}, round wall-clock x${(median(three!.roundMs) / median(one!.roundMs)).toFixed(2)} (rounds: ${ROUNDS}; 2 cores shared by clients, Redis and nodes)`,
  );
} finally {
  redis.disconnect();
  await redisServer.stop();
}
