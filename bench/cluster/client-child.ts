// One process of the cluster benchmark's clients: argv = JSON { urls, from, to, floats }. Connects clients
// from..to-1 (client i to urls[i % urls.length]), each answering every fit task at once with a sealed
// constant update of `floats` values; prints "ready N" once all are welcomed, then serves until killed.
// Connections go 10 at a time and a timed-out one is retried: on a loaded machine handshakes queue up.
import { connectFakeClient } from '../../test/coordinator/helpers.js';
import type { FakeClient } from '../../test/coordinator/helpers.js';

const { urls, from, to, floats } = JSON.parse(process.argv[2]!) as { urls: string[]; from: number; to: number; floats: number };
const delta = new Float32Array(floats).fill(0.001);
const clients: FakeClient[] = [];
const BATCH = 10;

async function connectWithRetry(j: number): Promise<FakeClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectFakeClient(urls[j % urls.length]!, {
        clientId: `bench-${j}`,
        fit: () => ({ kind: 'update', payload: { numExamples: 10, metrics: {}, delta } }),
      });
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

for (let i = from; i < to; i += BATCH) {
  const batch = [];
  for (let j = i; j < Math.min(to, i + BATCH); j++) batch.push(connectWithRetry(j));
  clients.push(...(await Promise.all(batch)));
}
process.stdout.write(`ready ${clients.length}\n`);
process.on('SIGTERM', () => {
  for (const c of clients) c.close();
  process.exit(0);
});
