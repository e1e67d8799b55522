// What an idle authenticated session costs the coordinator, object by object: heap snapshots before and
// after N light devices connect (bench/coordinator/fleet.ts), written to DIR for a diff (Chrome DevTools'
// comparison view, or any snapshot reader). Used to find what to trim for the idle-memory aim (issue 12).
//   node --import tsx --expose-gc bench/coordinator/idle-heap.ts [clients=1000] [dir=os.tmpdir()]
import { fork } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createCoordinator } from '@fedrec/coordinator';
const clients = Number(process.argv[2] ?? 1000);
const out = process.argv[3] ?? tmpdir();
const manifest = { tensors: [{ name: 'w', shape: [1000], dtype: 'float32' as const, shared: true }] };
const coordinator = createCoordinator({
  port: 0,
  host: '127.0.0.1',
  modelSpec: { name: 'bench', options: {} },
  initialWeights: { manifest, body: new Float32Array(1000) },
  checkpointDir: await mkdtemp(join(tmpdir(), 'idleheap-')),
  minClients: clients + 1,
  clientsPerRound: 'all',
  minResults: 1,
  rounds: 1,
  maxConnectionsPerAddress: 0,
  maxHandshakesPerSecond: 0,
  handshakeTimeoutMs: 600_000,
  logLinesPerClientPerMinute: 0,
  updateWorkers: 1,
});
const { url } = await coordinator.start();
const gc = (globalThis as { gc?: () => void }).gc!;
gc();
gc();
const m0 = process.memoryUsage();
writeHeapSnapshot(join(out, 'idle-before.heapsnapshot'));
const child = fork(join(import.meta.dirname, 'fleet.ts'), [url, String(clients), 'f0', '1000'], { execArgv: ['--import', 'tsx'] });
await new Promise<void>((r) => child.on('message', (m: { connected?: number }) => m.connected !== undefined && r()));
await new Promise((r) => setTimeout(r, 3000));
gc();
gc();
const m1 = process.memoryUsage();
writeHeapSnapshot(join(out, 'idle-after.heapsnapshot'));
console.log(`snapshots: ${join(out, 'idle-before.heapsnapshot')} ${join(out, 'idle-after.heapsnapshot')}`);
console.log(
  `per client: rss (inflated by the snapshots themselves) ${((m1.rss - m0.rss) / 1024 / clients).toFixed(2)} KB/client heapUsed ${((m1.heapUsed - m0.heapUsed) / 1024 / clients).toFixed(2)} external ${((m1.external - m0.external) / 1024 / clients).toFixed(2)} arrayBuffers ${((m1.arrayBuffers - m0.arrayBuffers) / 1024 / clients).toFixed(2)}`,
);
child.send('close');
await coordinator.stop();
process.exit(0);
