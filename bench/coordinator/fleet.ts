// One process of simulated devices for bench/coordinator.ts: many socket.io-client connections, each a
// real device session (signed handshake, its own X25519 sealer), answering every fit task with a sealed
// update of `params` floats. Reports to the parent over IPC: {connected}, then {error} if anything fails.
import { io as connect, type Socket } from 'socket.io-client';
import {
  EnvelopeSealer,
  PROTOCOL_VERSION,
  challengeSchema,
  encodeUpdatePayload,
  generateSignKeyPair,
  signHandshakeProof,
  toHex,
  welcomeSchema,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@fedrec/protocol';

const [url, countArg, prefix, paramsArg] = process.argv.slice(2);
const count = Number(countArg);
const params = Number(paramsArg);
const send = (m: unknown) => process.send?.(m);

// Every device sends the same small, finite delta (the coordinator's work per update does not depend on its values).
const delta = new Float32Array(params);
for (let i = 0; i < params; i++) delta[i] = ((i % 97) - 48) / 4096;
const plaintext = encodeUpdatePayload({ numExamples: 10, metrics: { loss: 0.5 }, delta });

type Io = Socket<ServerToClientEvents, ClientToServerEvents>;
const sockets: Io[] = [];
let connected = 0;

function device(i: number): Promise<void> {
  const clientId = `${prefix}-${i}`;
  const identity = generateSignKeyPair();
  const socket: Io = connect(url!, {
    auth: { protocolVersion: PROTOCOL_VERSION, clientId, publicKey: toHex(identity.publicKey) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    // A loaded machine can take a while to get through thousands of handshakes.
    timeout: 180_000,
  });
  sockets.push(socket);
  let sealer: EnvelopeSealer | undefined;
  socket.on('session:challenge', (raw) => {
    const c = challengeSchema.parse(raw);
    socket.emit(
      'session:prove',
      signHandshakeProof(identity.secretKey, { nonce: c.nonce, clientId, fingerprint: c.fingerprint, protocolVersion: PROTOCOL_VERSION }),
      () => undefined,
    );
  });
  socket.on('round:fit', (task, ack) => {
    const t = task as { roundId: number; taskId: string; modelVersion: number };
    void sealer!
      .seal(plaintext, { roundId: t.roundId, clientId, taskId: t.taskId, modelVersion: t.modelVersion })
      .then((envelope) => ack({ ok: true, value: { envelope } }));
  });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('session:welcome', (raw) => {
      sealer = new EnvelopeSealer(new Uint8Array(welcomeSchema.parse(raw).coordinatorPublicKey));
      resolve();
    });
  });
}

// Connect in small waves so the handshakes do not all land at once.
for (let i = 0; i < count; i += 25) {
  try {
    await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, k) => device(i + k)));
  } catch (err) {
    send({ error: String(err) });
    process.exit(1);
  }
  connected = Math.min(count, i + 25);
}
send({ connected });
process.on('message', (m) => {
  if (m === 'close') {
    for (const s of sockets) s.close();
    process.exit(0);
  }
});
