// One process of the cluster benchmark's clients: argv = JSON { urls, from, to, floats }. Connects clients
// from..to-1 (client i to urls[i % urls.length]) as light devices (../coordinator/light-device.ts: real
// signed sessions, native crypto, no model download), each answering every fit task at once with a sealed
// constant update of `floats` values; prints "ready N" once all are welcomed, then serves until killed.
// Connections go 50 at a time and a failed one is retried: on a loaded machine handshakes queue up.
import { encodeUpdatePayload } from '@fedrec/protocol';
import { connectLightDevice, type LightDevice } from '../coordinator/light-device.js';

const { urls, from, to, floats } = JSON.parse(process.argv[2]!) as { urls: string[]; from: number; to: number; floats: number };
const plaintext = encodeUpdatePayload({ numExamples: 10, metrics: {}, delta: new Float32Array(floats).fill(0.001) });
const devices: LightDevice[] = [];
const BATCH = 50;

async function connectWithRetry(j: number): Promise<LightDevice> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectLightDevice({ url: urls[j % urls.length]!, clientId: `bench-${j}`, plaintext });
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

for (let i = from; i < to; i += BATCH) {
  const batch = [];
  for (let j = i; j < Math.min(to, i + BATCH); j++) batch.push(connectWithRetry(j));
  devices.push(...(await Promise.all(batch)));
}
process.stdout.write(`ready ${devices.length}\n`);
process.on('SIGTERM', () => {
  for (const d of devices) d.socket.close();
  process.exit(0);
});
