import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createFederatedClient, FederatedClientError, MemoryStore } from '@fedrec/client-sdk';
import { createCoordinator } from '@fedrec/coordinator';
import { IDENTITIES_FILE } from '@fedrec/coordinator/identity-registry.js';
import { PROTOCOL_VERSION, challengeSchema, generateSignKeyPair, signEnrolment, signHandshakeProof, toHex } from '@fedrec/protocol';
import type { Ack, ErrorInfo, ParsedChallenge, Proof, SignKeyPair } from '@fedrec/protocol';
import { DeterministicTrainer } from '../e2e/fixtures/deterministic-trainer.js';
import { connectErrorData, connectFakeClient, connectProving, startCoordinator, stopAll, tempDir, testOptions, until } from './helpers.js';
import type { ClientIo } from './helpers.js';
import { io as connect } from 'socket.io-client';

/** How a connection attempt ended: welcomed, refused at the handshake (connect_error) or at the proof. */
function outcome(socket: ClientIo): Promise<{ welcomed: true } | { welcomed: false; error: ErrorInfo | undefined }> {
  return new Promise((resolve) => {
    socket.once('session:welcome', () => resolve({ welcomed: true }));
    socket.once('connect_error', (err) => resolve({ welcomed: false, error: connectErrorData(err) }));
    socket.once('proof-refused' as never, (error: ErrorInfo) => resolve({ welcomed: false, error }));
  });
}

async function attempt(url: string, clientId: string, identity: SignKeyPair, extra: Record<string, unknown> = {}) {
  const socket = connectProving(url, clientId, identity, extra);
  try {
    return await outcome(socket);
  } finally {
    socket.close();
  }
}

/** A socket that shows the challenge it got and lets the test send any proof (an eavesdropper's replay). */
function connectManual(
  url: string,
  clientId: string,
  publicKey: Uint8Array,
): { socket: ClientIo; challenge: Promise<ParsedChallenge>; prove(p: Proof): Promise<Ack<null>> } {
  const socket: ClientIo = connect(url, {
    auth: { protocolVersion: PROTOCOL_VERSION, clientId, publicKey: toHex(publicKey) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const challenge = new Promise<ParsedChallenge>((resolve) => socket.once('session:challenge', (raw) => resolve(challengeSchema.parse(raw))));
  return { socket, challenge, prove: (p) => socket.timeout(5_000).emitWithAck('session:prove', p) };
}

describe('coordinator: per-device identity', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  for (const token of [undefined, 'shared-s3cret']) {
    it(`refuses an impersonator with IDENTITY_MISMATCH and leaves the victim's connection and task alone (${token ? 'with' : 'without'} the shared token)`, async () => {
      const { coordinator, url } = await startCoordinator({ minClients: 1, ...(token ? { authToken: token } : {}) });
      const victimKey = generateSignKeyPair();
      const victim = await connectFakeClient(url, { clientId: 'victim', identity: victimKey, ...(token ? { token } : {}) });
      try {
        await until(() => victim.tasks.length > 0, 10_000, 'the victim gets a task');
        const result = await attempt(url, 'victim', generateSignKeyPair(), token ? { token } : {});
        assert.deepEqual(result.welcomed, false);
        assert.equal(!result.welcomed && result.error?.code, 'IDENTITY_MISMATCH');
        assert.ok(victim.socket.connected, 'the victim is still connected');
        assert.equal(coordinator.status().connectedClients, 1);
        const before = victim.tasks.length;
        await until(() => victim.tasks.length > before, 10_000, 'the victim keeps getting its tasks');
      } finally {
        victim.close();
      }
    });
  }

  it('refuses a device key of small order at the handshake (INVALID_PAYLOAD): a signature under it proves nothing', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 1 });
    // The identity point (y = 1): tweetnacl and OpenSSL both accept (R = identity, S = 0) for any message under it.
    const socket: ClientIo = connect(url, {
      auth: { protocolVersion: PROTOCOL_VERSION, clientId: 'forger', publicKey: `01${'00'.repeat(31)}` },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      const result = await outcome(socket);
      assert.equal(result.welcomed, false);
      assert.equal(!result.welcomed && result.error?.code, 'INVALID_PAYLOAD');
      assert.match((!result.welcomed && result.error?.message) || '', /small order/);
      assert.equal(coordinator.status().connectedClients, 0);
    } finally {
      socket.close();
    }
  });

  it('refuses a replayed signed handshake: the nonce is per connection and used once', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    const key = generateSignKeyPair();
    // The device's genuine connection, as an eavesdropper records it.
    const genuine = connectManual(url, 'dev', key.publicKey);
    const c1 = await genuine.challenge;
    const proof = signHandshakeProof(key.secretKey, { nonce: c1.nonce, clientId: 'dev', fingerprint: c1.fingerprint, protocolVersion: PROTOCOL_VERSION });
    const welcomed = new Promise((r) => genuine.socket.once('session:welcome', r));
    assert.deepEqual(await genuine.prove(proof), { ok: true, value: null });
    await welcomed;
    // The same proof again on the same connection: the nonce is spent.
    const again = await genuine.prove(proof);
    assert.equal(!again.ok && again.error.code, 'PROOF_REJECTED');
    // The recorded proof on a new connection (fresh nonce): refused, and that connection is dropped.
    const replay = connectManual(url, 'dev', key.publicKey);
    await replay.challenge;
    const dropped = new Promise((r) => replay.socket.once('disconnect', r));
    const replayed = await replay.prove(proof);
    assert.equal(!replayed.ok && replayed.error.code, 'PROOF_REJECTED');
    await dropped;
    assert.ok(genuine.socket.connected, 'the genuine connection is untouched');
    assert.equal(coordinator.status().connectedClients, 1);
    genuine.socket.close();
  });

  it('gives an unproven connection nothing: events answer UNAUTHORIZED, and it is dropped when the nonce expires', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5, handshakeTimeoutMs: 300 });
    const silent = connectManual(url, 'lurker', generateSignKeyPair().publicKey);
    await silent.challenge;
    const reply = (await silent.socket.timeout(2_000).emitWithAck('model:get', {})) as Ack<unknown>;
    assert.equal(!reply.ok && reply.error.code, 'UNAUTHORIZED');
    assert.equal(coordinator.status().connectedClients, 0);
    await new Promise((r) => silent.socket.once('disconnect', r));
    silent.socket.close();
  });

  it('keeps bindings across a restart in a 0600 file beside the checkpoints', async () => {
    const dir = await tempDir();
    try {
      const key = generateSignKeyPair();
      const first = createCoordinator(testOptions({ checkpointDir: dir.dir, minClients: 5 }));
      const { url } = await first.start();
      assert.equal((await attempt(url, 'kept', key)).welcomed, true);
      await first.stop();
      const file = join(dir.dir, IDENTITIES_FILE);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.match(await readFile(file, 'utf8'), new RegExp(toHex(key.publicKey)));

      const second = createCoordinator(testOptions({ checkpointDir: dir.dir, minClients: 5 }));
      const { url: url2 } = await second.start();
      try {
        const impostor = await attempt(url2, 'kept', generateSignKeyPair());
        assert.equal(!impostor.welcomed && impostor.error?.code, 'IDENTITY_MISMATCH');
        assert.equal((await attempt(url2, 'kept', key)).welcomed, true, 'the device itself comes back');
      } finally {
        await second.stop();
      }
    } finally {
      await dir.remove();
    }
  });

  it('enrolment by allowed keys: admits listed device keys only (NOT_ENROLLED otherwise)', async () => {
    const listed = generateSignKeyPair();
    const { url } = await startCoordinator({ minClients: 5, allowedKeys: [toHex(listed.publicKey)] });
    assert.equal((await attempt(url, 'listed', listed)).welcomed, true);
    const stranger = await attempt(url, 'stranger', generateSignKeyPair());
    assert.equal(!stranger.welcomed && stranger.error?.code, 'NOT_ENROLLED');
  });

  it('enrolment by backend-signed tokens: a token for (id, key) admits that pair and no other', async () => {
    const backend = generateSignKeyPair();
    const { url } = await startCoordinator({ minClients: 5, enrolmentKey: toHex(backend.publicKey) });
    const device = generateSignKeyPair();
    const token = signEnrolment(backend.secretKey, 'app-user-1', toHex(device.publicKey));
    assert.equal((await attempt(url, 'app-user-1', device, { enrolment: token })).welcomed, true);
    const noToken = await attempt(url, 'app-user-2', generateSignKeyPair());
    assert.equal(!noToken.welcomed && noToken.error?.code, 'NOT_ENROLLED');
    const otherId = await attempt(url, 'app-user-2', device, { enrolment: token });
    assert.equal(!otherId.welcomed && otherId.error?.code, 'NOT_ENROLLED', 'the token names one client id');
    const forged = signEnrolment(generateSignKeyPair().secretKey, 'app-user-3', toHex(device.publicKey));
    const forgedResult = await attempt(url, 'app-user-3', device, { enrolment: forged });
    assert.equal(!forgedResult.welcomed && forgedResult.error?.code, 'NOT_ENROLLED');
  });

  it('SDK: a device keeps its key in its store; another device with its token is refused (NOT_ENROLLED: the token names the owner key)', async () => {
    const backend = generateSignKeyPair();
    const { coordinator, url } = await startCoordinator({ minClients: 5, enrolmentKey: toHex(backend.publicKey) });
    const store = new MemoryStore();
    const base = { url, clientId: 'phone-1', backend: false as const, reconnect: { enabled: false } };
    // The app's backend enrols the device's public key.
    const probe = createFederatedClient({ ...base, store, trainer: new DeterministicTrainer(1) });
    const enrolmentToken = signEnrolment(backend.secretKey, 'phone-1', await probe.devicePublicKey());
    const owner = createFederatedClient({ ...base, store, trainer: new DeterministicTrainer(1), enrolmentToken });
    await owner.connect();
    // A second client with its own store (so its own key) and even the genuine enrolment token.
    const thief = createFederatedClient({ ...base, store: new MemoryStore(), trainer: new DeterministicTrainer(2), enrolmentToken });
    await assert.rejects(thief.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'NOT_ENROLLED');
    assert.equal(owner.connected, true);
    await owner.close();
    // The same store reconnects as the same device.
    const restarted = createFederatedClient({ ...base, store, trainer: new DeterministicTrainer(1), enrolmentToken });
    await restarted.connect();
    await until(() => coordinator.status().connectedClients === 1, 5_000, 'one registration');
    await restarted.close();
    await thief.close();
  });

  it('SDK without enrolment: the first device binds the id, a second device is refused', async () => {
    const { url } = await startCoordinator({ minClients: 5 });
    const base = { url, clientId: 'phone-2', backend: false as const, reconnect: { enabled: false } };
    const owner = createFederatedClient({ ...base, store: new MemoryStore(), trainer: new DeterministicTrainer(1) });
    await owner.connect();
    const thief = createFederatedClient({ ...base, store: new MemoryStore(), trainer: new DeterministicTrainer(2) });
    await assert.rejects(thief.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'IDENTITY_MISMATCH');
    assert.equal(owner.connected, true);
    await owner.close();
    await thief.close();
  });
});
