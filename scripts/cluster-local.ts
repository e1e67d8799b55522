// `npm run cluster:local`: a whole cluster on this machine. Starts redis-server (Debian's package; or uses
// --redis URL), N coordinator nodes (the real CLI with --redis, sharing one checkpoint directory) and the
// TCP balancer (scripts/cluster-balancer.ts) in front of them. Clients and the dashboard use the balancer's
// URL. Ctrl-C stops everything. Flags after `--` go to every node (e.g. -- --min-clients 10).
//   npm run cluster:local -- --nodes 3 --port 8080 --dir .fedrec-cluster -- --rounds continuous
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBalancer } from './cluster-balancer.js';
import { spawnNode } from './cluster-node-process.js';
import type { NodeProcess } from './cluster-node-process.js';
import { startRedisServer } from './redis-server.js';
import type { RedisServer } from './redis-server.js';

const split = process.argv.indexOf('--', 2);
const own = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
const nodeArgs = split < 0 ? [] : process.argv.slice(split + 1);
const { values } = parseArgs({
  args: own,
  options: {
    nodes: { type: 'string', default: '3' },
    port: { type: 'string', default: '8080' },
    dir: { type: 'string', default: '.fedrec-cluster' },
    redis: { type: 'string' },
  },
});
const count = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error('--nodes: 1 to 16');
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port: 0 to 65535');
const dir = resolve(values.dir);

let redis: RedisServer | undefined;
const nodes: NodeProcess[] = [];
let stopping = false;

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let redisUrl = values.redis;
  if (redisUrl === undefined) {
    redis = await startRedisServer({ persistent: true, ownGroup: true });
    redisUrl = redis.url;
    console.log(`redis-server pid ${redis.pid} at ${redisUrl} (append-only file on)`);
  }
  const say = (n: NodeProcess, e: Record<string, unknown>): void => {
    const msg = String(e['msg']);
    if (/lease|round committed|round abandoned|joined the cluster|loaded a committed|fatal|error/.test(msg) || Number(e['level']) >= 50) {
      console.log(`[${n.nodeId}] ${msg}${e['modelVersion'] !== undefined ? ` v${String(e['modelVersion'])}` : ''}`);
    }
  };
  // The first node creates the shared key file; the rest start together.
  for (let i = 0; i < count; i++) {
    const node = await spawnNode(redisUrl, dir, `node-${i + 1}`, nodeArgs, port === 0 ? 0 : port + 1 + i);
    node.onLog = (e) => say(node, e);
    node.child.once('exit', (code, signal) => {
      if (!stopping) console.log(`[${node.nodeId}] exited (${signal ?? code}); the balancer skips it`);
    });
    nodes.push(node);
    console.log(`[${node.nodeId}] ready at ${node.url} (pid ${node.child.pid})`);
  }
  const alive = (): Array<{ host: string; port: number }> =>
    nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => ({ host: '127.0.0.1', port: n.port }));
  const lb = await startBalancer(alive, port);
  console.log(`\nbalancer at ${lb.url}: point clients and the dashboard here (kill -9 a node pid to watch the cluster carry on)`);
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('stopping');
    void (async () => {
      await lb.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis?.stop();
      process.exit(0);
    })();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch(async (err: unknown) => {
  console.error(`cluster:local: ${err instanceof Error ? err.message : String(err)}`);
  await Promise.all(nodes.map((n) => n.kill9()));
  await redis?.stop();
  process.exit(1);
});
