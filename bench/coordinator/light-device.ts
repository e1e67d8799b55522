// A lightweight benchmark device: one real Socket.IO session (signed handshake, its own sender key, sealed
// updates) at a fraction of an SDK device's CPU, so that one process can host thousands of them and the
// benchmark measures the coordinator, not the devices. What it skips, and why that is fair:
// - Keys and the handshake signature use node:crypto's native Ed25519 and X25519 instead of tweetnacl's
//   JavaScript (the same algorithms: Ed25519 signatures are deterministic and verify identically; the
//   session key is X25519 then HSalsa20, exactly tweetnacl's box.before, then the protocol's HKDF).
// - The session key is derived as soon as the device is welcomed, before any round (an SDK device derives
//   it on its first seal); each fit task then costs one native AES-GCM seal of a pre-encoded plaintext.
// - No training, and no model download (`model:get`): every device answers with the same pre-encoded update.
// It follows upload pacing like an SDK device: seal, ask `upload:slot` when the task says so, send once granted.
// The coordinator runs its shipped code for all of it: it verifies each signature, agrees each session key
// (tweetnacl, in its update workers) and opens every envelope.
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { io as connect, type Socket } from 'socket.io-client';
import {
  ENVELOPE_AEAD,
  ENVELOPE_NONCE_BYTES,
  ENVELOPE_TAG_BYTES,
  PROTOCOL_VERSION,
  challengeSchema,
  deriveEnvelopeKey,
  handshakeProofMessage,
  sealWithKey,
  toHex,
  welcomeSchema,
  type Ack,
  type ClientToServerEvents,
  type EnvelopeKey,
  type ServerToClientEvents,
} from '@fedrec/protocol';

export type LightSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The raw 32-byte public key of a native Ed25519 or X25519 key (the last 32 bytes of its SPKI DER). */
function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** tweetnacl's box.before with native X25519: HSalsa20 over the X25519 shared point. */
function boxBefore(recipientPublicKey: Uint8Array, senderPrivate: KeyObject): Uint8Array {
  const spki = Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), recipientPublicKey]);
  const point = diffieHellman({ privateKey: senderPrivate, publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }) });
  const k = new Uint8Array(32);
  // sigma = "expand 32-byte k", as in tweetnacl's crypto_box_beforenm.
  const sigma = new TextEncoder().encode('expand 32-byte k');
  (nacl as unknown as { lowlevel: { crypto_core_hsalsa20(o: Uint8Array, i: Uint8Array, k: Uint8Array, c: Uint8Array): void } }).lowlevel.crypto_core_hsalsa20(
    k,
    new Uint8Array(16),
    new Uint8Array(point),
    sigma,
  );
  return k;
}

export interface LightDeviceOptions {
  url: string;
  clientId: string;
  /** The encoded update payload every fit task is answered with (sealed per task, as the binding requires). */
  plaintext: Uint8Array;
  /** Socket.IO connect timeout: a loaded coordinator can take a while to get through thousands of handshakes. */
  timeoutMs?: number;
}

export interface LightDevice {
  socket: LightSocket;
  /** Fit tasks answered so far. */
  answered(): number;
}

/** Connects, proves its identity, derives its session key, and answers every fit task; resolves once welcomed and keyed. */
export function connectLightDevice(o: LightDeviceOptions): Promise<LightDevice> {
  const identity = generateKeyPairSync('ed25519');
  const sender = generateKeyPairSync('x25519');
  const senderPublicKey = rawPublicKey(sender.publicKey);
  const socket: LightSocket = connect(o.url, {
    auth: { protocolVersion: PROTOCOL_VERSION, clientId: o.clientId, publicKey: toHex(rawPublicKey(identity.publicKey)) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: o.timeoutMs ?? 300_000,
  });
  let key: EnvelopeKey | undefined;
  let answered = 0;
  socket.on('session:challenge', (raw) => {
    const c = challengeSchema.parse(raw);
    const message = handshakeProofMessage({ nonce: c.nonce, clientId: o.clientId, fingerprint: c.fingerprint, protocolVersion: PROTOCOL_VERSION });
    socket.emit('session:prove', { signature: sign(null, message, identity.privateKey).toString('hex') }, () => undefined);
  });
  socket.on('round:fit', (task, ack) => {
    const t = task as { roundId: number; taskId: string; modelVersion: number; uploadSlot?: true };
    const nonce = new Uint8Array(randomBytes(ENVELOPE_NONCE_BYTES));
    void (async () => {
      // Upload pacing, as the SDK does it (client-sdk/upload-slot.ts): the update goes only once a slot is granted.
      // The SDK seals first; here the sealed size is known in advance (AES-GCM adds its tag), so the device seals
      // after the grant and a fleet of thousands never holds thousands of sealed copies (device memory, not the coordinator's).
      if (t.uploadSlot) {
        const bytes = o.plaintext.length + ENVELOPE_TAG_BYTES;
        const grant = (await socket.timeout(600_000).emitWithAck('upload:slot', { roundId: t.roundId, taskId: t.taskId, bytes })) as Ack<unknown>;
        if (!grant.ok) return ack(grant as Ack<never>);
      }
      const ciphertext = await sealWithKey(key!, nonce, o.plaintext, {
        roundId: t.roundId,
        clientId: o.clientId,
        taskId: t.taskId,
        modelVersion: t.modelVersion,
      });
      answered++;
      ack({ ok: true, value: { envelope: { aead: ENVELOPE_AEAD, senderPublicKey, nonce, ciphertext } } });
    })().catch(() => undefined); // a timed-out slot request: the coordinator counts the task as failed
  });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('disconnect', (reason) => reject(new Error(`disconnected before welcome: ${reason}`)));
    socket.once('session:welcome', (raw) => {
      const coordinatorPublicKey = new Uint8Array(welcomeSchema.parse(raw).coordinatorPublicKey);
      void deriveEnvelopeKey(boxBefore(coordinatorPublicKey, sender.privateKey), senderPublicKey, coordinatorPublicKey).then((k) => {
        key = k;
        resolve({ socket, answered: () => answered });
      }, reject);
    });
  });
}
