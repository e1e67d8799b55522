import assert from 'node:assert/strict';
import { PROTOCOL_VERSION, fingerprint, generateKeyPair, generateSignKeyPair, toHex, verifyHandshakeProof } from '@fedrec/protocol';
import { backoffDelay } from '@fedrec/client-sdk/backoff.js';
import { CONNECTION_TRANSITIONS, Connection, canTransition, type ClientState, type ConnectionOptions } from '@fedrec/client-sdk/connection.js';
import { FederatedClientError, TypedEmitter, silentLogger, type FederatedClientEvents } from '@fedrec/client-sdk';
import { fakeSocketFactory, type FakeSocket } from './helpers/fake-socket.js';

const device = generateSignKeyPair();
const STATES: ClientState[] = ['idle', 'connecting', 'ready', 'reconnecting', 'failed', 'closed'];
const keys = generateKeyPair();
const welcomeFor = (clientId: string, publicKey = keys.publicKey) => ({
  clientId,
  protocolVersion: PROTOCOL_VERSION,
  coordinatorPublicKey: publicKey,
  fingerprint: fingerprint(publicKey),
  modelVersion: 3,
});

describe('connection state machine', function () {
  describe('transitions', function () {
    it('can close from every state, and leaves failed or closed only through connecting', () => {
      for (const s of STATES) assert.ok(canTransition(s, 'closed'), `${s} -> closed`);
      assert.deepEqual(CONNECTION_TRANSITIONS.closed, ['connecting']);
      assert.deepEqual([...CONNECTION_TRANSITIONS.failed].sort(), ['closed', 'connecting']);
    });

    it('is ready only after connecting or reconnecting, and every state is reachable from idle', () => {
      for (const s of STATES) {
        if (s !== 'ready') assert.equal(canTransition(s, 'ready'), s === 'connecting' || s === 'reconnecting', `${s} -> ready`);
      }
      const seen = new Set<ClientState>(['idle']);
      const queue: ClientState[] = ['idle'];
      while (queue.length > 0) {
        for (const next of CONNECTION_TRANSITIONS[queue.shift()!]) {
          if (seen.has(next)) continue;
          seen.add(next);
          queue.push(next);
        }
      }
      assert.deepEqual([...seen].sort(), [...STATES].sort());
    });
  });

  describe('backoff', function () {
    it('doubles from the first delay up to the ceiling, spread by the jitter', () => {
      const policy = { initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0 };
      assert.deepEqual(
        [0, 1, 2, 3, 4, 5, 60].map((a) => backoffDelay(policy, a)),
        [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
      );
      const spread = { ...policy, jitter: 0.5 };
      assert.equal(
        backoffDelay(spread, 1, () => 0),
        500,
      );
      assert.equal(
        backoffDelay(spread, 1, () => 0.5),
        1000,
      );
      assert.equal(
        backoffDelay(spread, 1, () => 1),
        1500,
      );
    });
  });

  describe('Connection over a scripted socket', function () {
    const open: Connection[] = [];
    afterEach(() => open.splice(0).forEach((c) => c.close()));

    function make(overrides: Partial<ConnectionOptions> = {}) {
      const sockets = fakeSocketFactory();
      const events = new TypedEmitter<FederatedClientEvents>();
      const seen: string[] = [];
      for (const e of ['connected', 'disconnected', 'reconnecting', 'welcome', 'error'] as const) events.on(e, () => seen.push(e));
      const attached: unknown[] = [];
      const connection = new Connection({
        url: 'https://coordinator.test',
        token: 't0k',
        logger: silentLogger,
        events,
        socketFactory: sockets.factory,
        reconnect: { initialDelayMs: 1, maxDelayMs: 2, jitter: 0 },
        prepare: async () => ({ clientId: 'dev-1', identity: device }),
        attach: (socket) => attached.push(socket),
        welcomed: () => seen.push('welcomed-hook'),
        ...overrides,
      });
      open.push(connection);
      return { connection, sockets, events, seen, attached };
    }

    async function welcomed(overrides: Partial<ConnectionOptions> = {}) {
      const made = make(overrides);
      const socketP = made.sockets.next();
      const connected = made.connection.connect();
      const socket = await socketP;
      socket.fire('connect');
      socket.fire('session:welcome', welcomeFor('dev-1'));
      const info = await connected;
      return { ...made, socket, info };
    }

    it('handshakes: announces id, version and token, checks the welcome, then is ready', async () => {
      const { connection, socket, info, seen, attached } = await welcomed();
      assert.deepEqual(socket.handshake(), { protocolVersion: PROTOCOL_VERSION, clientId: 'dev-1', publicKey: toHex(device.publicKey), token: 't0k' });
      assert.equal(socket.url, 'https://coordinator.test');
      assert.deepEqual(attached, [socket], 'the other parts got the socket');
      assert.deepEqual(info, { clientId: 'dev-1', protocolVersion: PROTOCOL_VERSION, fingerprint: fingerprint(keys.publicKey), modelVersion: 3 });
      assert.deepEqual(seen, ['connected', 'welcomed-hook', 'welcome']);
      assert.equal(connection.state, 'ready');
      assert.equal(connection.readySocket, socket.asSocket());
      assert.ok(connection.sealer);
      assert.equal(connection.fingerprint, fingerprint(keys.publicKey));
      assert.equal(await connection.connect(), info, 'connect() when ready answers the same welcome');
    });

    it('reconnects after a drop, and retries by itself after a server hang-up', async () => {
      const { connection, socket, events } = await welcomed();
      const dropped = new Promise((r) => events.once('disconnected', r));
      socket.fire('disconnect', 'transport close');
      assert.deepEqual(await dropped, { reason: 'transport close' });
      assert.equal(connection.state, 'reconnecting');
      assert.equal(connection.readySocket, undefined);
      socket.fire('session:welcome', welcomeFor('dev-1'));
      assert.equal(connection.state, 'ready');

      const retried = new Promise((r) => events.once('reconnecting', r));
      socket.fire('disconnect', 'io server disconnect');
      assert.deepEqual(await retried, { attempt: 1 });
      assert.equal(socket.connects, 2, 'connected again without socket.io');
    });

    it('stops for good on a refusal: rejects connect() with the code and drops the socket', async () => {
      const { connection, sockets } = make();
      const socketP = sockets.next();
      const connected = connection.connect();
      const socket = await socketP;
      socket.active = false;
      socket.fire('connect_error', Object.assign(new Error('nope'), { data: { code: 'UNAUTHORIZED' } }));
      await assert.rejects(connected, (err: unknown) => err instanceof FederatedClientError && err.code === 'UNAUTHORIZED');
      assert.equal(connection.state, 'failed');
      assert.equal(socket.disconnects, 1);
      assert.equal(socket.map.size, 0, 'no listener left behind');
      // connect() again is the one way out of failed.
      const again = sockets.next();
      void connection.connect().catch(() => undefined);
      assert.notEqual(await again, socket);
      assert.equal(connection.state, 'connecting');
    });

    it("reports an untrusted coordinator after the handshake as an 'error' event", async () => {
      const { connection, socket, events } = await welcomed({ pinnedFingerprint: fingerprint(keys.publicKey) });
      const failed = new Promise<Error>((r) => events.once('error', r));
      socket.fire('disconnect', 'transport close');
      socket.fire('session:welcome', welcomeFor('dev-1', generateKeyPair().publicKey));
      const err = await failed;
      assert.ok(err instanceof FederatedClientError && err.code === 'FINGERPRINT_MISMATCH');
      assert.equal(connection.state, 'failed');
    });

    it('opens no socket when closed while preparing, and rejects the pending connect with CLOSED', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { connection, sockets } = make({ prepare: async () => (await gate, { clientId: 'dev-1', identity: device }) });
      const connected = connection.connect();
      assert.equal(connection.state, 'connecting');
      connection.close();
      release();
      await assert.rejects(connected, (err: unknown) => err instanceof FederatedClientError && err.code === 'CLOSED');
      assert.equal(connection.state, 'closed');
      assert.equal(sockets.sockets.length, 0);
    });

    it('signs the challenge with the device key over nonce, client id, fingerprint and version', async () => {
      const { connection, sockets } = make();
      const socketP = sockets.next();
      const connected = connection.connect();
      const socket = await socketP;
      const proofs: unknown[] = [];
      socket.emitWithAck = async (event: string, proof: unknown) => (proofs.push([event, proof]), { ok: true, value: null });
      const nonce = new Uint8Array(32).fill(7);
      socket.fire('session:challenge', {
        nonce,
        coordinatorPublicKey: keys.publicKey,
        fingerprint: fingerprint(keys.publicKey),
        protocolVersion: PROTOCOL_VERSION,
      });
      await new Promise((r) => setImmediate(r));
      assert.equal(proofs.length, 1);
      const [event, proof] = proofs[0] as [string, { signature: string }];
      assert.equal(event, 'session:prove');
      const context = { nonce, clientId: 'dev-1', fingerprint: fingerprint(keys.publicKey), protocolVersion: PROTOCOL_VERSION };
      assert.ok(verifyHandshakeProof(toHex(device.publicKey), proof, context));
      assert.ok(!verifyHandshakeProof(toHex(device.publicKey), proof, { ...context, nonce: new Uint8Array(32) }), 'bound to the nonce');
      socket.fire('session:welcome', welcomeFor('dev-1'));
      await connected;
    });

    it('stops with the code when the coordinator refuses the proof (IDENTITY_MISMATCH)', async () => {
      const { connection, sockets } = make();
      const socketP = sockets.next();
      const connected = connection.connect();
      const socket = await socketP;
      socket.emitWithAck = async () => ({ ok: false, error: { code: 'IDENTITY_MISMATCH', message: 'taken' } });
      socket.fire('session:challenge', {
        nonce: new Uint8Array(32),
        coordinatorPublicKey: keys.publicKey,
        fingerprint: fingerprint(keys.publicKey),
        protocolVersion: PROTOCOL_VERSION,
      });
      await assert.rejects(connected, (err: unknown) => err instanceof FederatedClientError && err.code === 'IDENTITY_MISMATCH');
      assert.equal(connection.state, 'failed');
    });

    it('proves nothing to a coordinator whose key differs from the pin', async () => {
      const { connection, sockets } = make({ pinnedFingerprint: fingerprint(keys.publicKey) });
      const socketP = sockets.next();
      const connected = connection.connect();
      const socket = await socketP;
      let proved = false;
      socket.emitWithAck = async () => ((proved = true), { ok: true, value: null });
      const other = generateKeyPair().publicKey;
      socket.fire('session:challenge', {
        nonce: new Uint8Array(32),
        coordinatorPublicKey: other,
        fingerprint: fingerprint(other),
        protocolVersion: PROTOCOL_VERSION,
      });
      await assert.rejects(connected, (err: unknown) => err instanceof FederatedClientError && err.code === 'FINGERPRINT_MISMATCH');
      assert.equal(proved, false);
    });

    it('refuses plain http outside loopback with INSECURE_TRANSPORT unless allowInsecure, and opens no socket', async () => {
      const { connection, sockets } = make({ url: 'http://coordinator.test' });
      await assert.rejects(connection.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'INSECURE_TRANSPORT');
      assert.equal(sockets.sockets.length, 0, 'nothing (not the token, not the key) was sent');
      const loopback = make({ url: 'http://127.0.0.1:9' });
      const opened = loopback.sockets.next();
      void loopback.connection.connect().catch(() => undefined);
      assert.equal((await opened).url, 'http://127.0.0.1:9');
      const allowed = make({ url: 'http://coordinator.test', allowInsecure: true });
      const allowedSocket = allowed.sockets.next();
      void allowed.connection.connect().catch(() => undefined);
      assert.equal((await allowedSocket).url, 'http://coordinator.test');
    });

    it('backs off and retries when the coordinator answers RATE_LIMITED', async () => {
      const { connection, sockets } = make();
      const socketP = sockets.next();
      const connected = connection.connect();
      const socket = await socketP;
      socket.active = false;
      socket.fire('connect_error', Object.assign(new Error('slow down'), { data: { code: 'RATE_LIMITED' } }));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(connection.state, 'connecting');
      assert.equal(socket.connects, 2, 'tried again after the backoff');
      socket.fire('session:welcome', welcomeFor('dev-1'));
      await connected;
    });

    it('gives up with CONNECT_TIMEOUT when no welcome comes', async () => {
      const { connection, sockets } = make({ connectTimeoutMs: 20 });
      const socketP = sockets.next();
      await assert.rejects(connection.connect(), (err: unknown) => err instanceof FederatedClientError && err.code === 'CONNECT_TIMEOUT');
      const socket: FakeSocket = await socketP;
      assert.equal(socket.disconnects, 1);
      assert.equal(connection.state, 'failed');
    });
  });
});
