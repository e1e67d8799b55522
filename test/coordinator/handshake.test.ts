import assert from 'node:assert/strict';
import { io as connect } from 'socket.io-client';
import { PROTOCOL_VERSION, decodeWeights, fingerprint, generateSignKeyPair, toHex } from '@fedrec/protocol';
import { connectErrorData, connectFakeClient, startCoordinator, stopAll, until } from './helpers.js';
import type { ClientIo } from './helpers.js';

function rawConnect(url: string, auth: Record<string, unknown>): ClientIo {
  const withKey = { publicKey: toHex(generateSignKeyPair().publicKey), ...auth };
  return connect(url, { auth: withKey, transports: ['websocket'], reconnection: false, forceNew: true });
}

function refusal(socket: ClientIo): Promise<unknown> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connection was accepted')));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(connectErrorData(err));
    });
  });
}

describe('coordinator: handshake and socket handlers', () => {
  afterEach(stopAll);

  it('welcomes a client with the coordinator key, its fingerprint and the model version', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    const client = await connectFakeClient(url, { clientId: 'alice' });
    try {
      assert.equal(client.welcome.clientId, 'alice');
      assert.equal(client.welcome.protocolVersion, PROTOCOL_VERSION);
      assert.equal(client.welcome.fingerprint, fingerprint(client.welcome.coordinatorPublicKey));
      assert.equal(client.welcome.fingerprint, coordinator.status().fingerprint);
      assert.equal(client.welcome.modelVersion, 0);
      await until(() => coordinator.status().connectedClients === 1, 2_000, 'registration');
    } finally {
      client.close();
    }
  });

  it('refuses another protocol version with PROTOCOL_VERSION_MISMATCH', async () => {
    const { url } = await startCoordinator();
    const data = await refusal(rawConnect(url, { protocolVersion: PROTOCOL_VERSION + 1, clientId: 'future' }));
    assert.deepEqual(Object.keys(data as object).sort(), ['code', 'message']);
    assert.equal((data as { code: string }).code, 'PROTOCOL_VERSION_MISMATCH');
  });

  it('refuses a missing or wrong token with UNAUTHORIZED and accepts the right one', async () => {
    const { url } = await startCoordinator({ authToken: 's3cret', minClients: 5 });
    assert.equal(((await refusal(rawConnect(url, { protocolVersion: PROTOCOL_VERSION, clientId: 'a' }))) as { code: string }).code, 'UNAUTHORIZED');
    assert.equal(
      ((await refusal(rawConnect(url, { protocolVersion: PROTOCOL_VERSION, clientId: 'a', token: 'guess' }))) as { code: string }).code,
      'UNAUTHORIZED',
    );
    const ok = await connectFakeClient(url, { clientId: 'a', token: 's3cret' });
    ok.close();
  });

  it('refuses a malformed handshake with INVALID_PAYLOAD', async () => {
    const { url } = await startCoordinator();
    const data = await refusal(rawConnect(url, { protocolVersion: PROTOCOL_VERSION, clientId: '../../etc/passwd' }));
    assert.equal((data as { code: string }).code, 'INVALID_PAYLOAD');
  });

  it('replaces an older connection of the same device (same client id and key)', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    const identity = generateSignKeyPair();
    const first = await connectFakeClient(url, { clientId: 'bob', identity });
    const firstGone = new Promise<void>((resolve) => first.socket.once('disconnect', () => resolve()));
    const second = await connectFakeClient(url, { clientId: 'bob', identity });
    try {
      await firstGone;
      await until(() => coordinator.status().connectedClients === 1, 2_000, 'one registration');
      assert.ok(second.socket.connected);
      // The old socket's disconnect must not unregister the new one.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(coordinator.status().connectedClients, 1);
    } finally {
      first.close();
      second.close();
    }
  });

  it('answers model:get with the current model snapshot', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    const client = await connectFakeClient(url, { clientId: 'carol' });
    try {
      const reply = await client.socket.timeout(2_000).emitWithAck('model:get', {});
      assert.ok(reply.ok);
      if (!reply.ok) return;
      assert.equal(reply.value.modelVersion, 0);
      assert.deepEqual(reply.value.modelSpec, coordinator.status().modelSpec);
      assert.deepEqual(Array.from(decodeWeights(reply.value.weights).body), Array.from(coordinator.currentWeights().body));
    } finally {
      client.close();
    }
  });

  it('answers bad payloads and unknown events with an error ack and keeps running', async () => {
    const { coordinator, url } = await startCoordinator({ minClients: 5 });
    const client = await connectFakeClient(url, { clientId: 'mallory' });
    const loose = client.socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> } };
    try {
      const bad = (await loose.timeout(2_000).emitWithAck('model:get', { please: 'crash' })) as { ok: boolean; error: { code: string } };
      assert.equal(bad.ok, false);
      assert.equal(bad.error.code, 'INVALID_PAYLOAD');
      const unknown = (await loose.timeout(2_000).emitWithAck('admin:shutdown', 1)) as { ok: boolean; error: { code: string } };
      assert.equal(unknown.error.code, 'INVALID_PAYLOAD');
      const still = await client.socket.timeout(2_000).emitWithAck('model:get', {});
      assert.ok(still.ok);
      assert.equal(coordinator.status().connectedClients, 1);
    } finally {
      client.close();
    }
  });
});
