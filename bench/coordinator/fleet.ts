// One process of simulated devices for bench/coordinator.ts: many light devices (light-device.ts: real
// Socket.IO sessions with signed handshakes and their own sender keys, native crypto, pre-encoded update),
// answering every fit task with a sealed update of `params` floats, its delta encoded with the run's
// compression (argv[6]: none, fp16 or int8) as an SDK device obeying the task encodes it. Reports to the parent
// over IPC: {connected, bytesUp} (bytesUp: sealed bytes per update), then {error} if anything fails.
import { ENVELOPE_TAG_BYTES, compressionSchema, encodeUpdatePayload, type WeightManifest } from '@fedrec/protocol';
import { connectLightDevice, type LightDevice } from './light-device.js';

const [url, countArg, prefix, paramsArg, compressionArg] = process.argv.slice(2);
const count = Number(countArg);
const params = Number(paramsArg);
const compression = compressionSchema.parse(compressionArg ?? 'none');
const manifest: WeightManifest = { tensors: [{ name: 'w', shape: [params], dtype: 'float32', shared: true }] };
const send = (m: unknown) => process.send?.(m);

// Every device sends the same small, finite delta (the coordinator's work per update does not depend on its values).
const delta = new Float32Array(params);
for (let i = 0; i < params; i++) delta[i] = ((i % 97) - 48) / 4096;
// Encoded once: the same bytes every round, so int8's error feedback (a device's own state) does not apply here.
const plaintext = encodeUpdatePayload({ numExamples: 10, metrics: { loss: 0.5 }, delta }, manifest, { compression });

const devices: LightDevice[] = [];
// Connect in waves so the handshakes do not all land at once (the coordinator would time some out).
const WAVE = 50;
for (let i = 0; i < count; i += WAVE) {
  try {
    const wave = Array.from({ length: Math.min(WAVE, count - i) }, (_, k) => connectLightDevice({ url: url!, clientId: `${prefix}-${i + k}`, plaintext }));
    devices.push(...(await Promise.all(wave)));
  } catch (err) {
    send({ error: String(err) });
    process.exit(1);
  }
}
send({ connected: devices.length, bytesUp: plaintext.length + ENVELOPE_TAG_BYTES });
process.on('message', (m) => {
  if (m === 'close') {
    for (const d of devices) d.socket.close();
    process.exit(0);
  }
});
