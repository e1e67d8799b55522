import assert from 'node:assert/strict';
import fc from 'fast-check';
import { io as connect } from 'socket.io-client';
import { ERROR_CODES, PROTOCOL_VERSION, encodeWeights, toHex } from '@fedrec/protocol';
import type { Ack, ErrorInfo } from '@fedrec/protocol';
import { ROWS, SHARED, connectErrorData, connectFakeClient, constantUpdate, startCoordinator, stopAll, until } from './helpers.js';
import type { ClientIo, FakeClient, FitAnswer } from './helpers.js';

// Property-based hostile input against a real coordinator over real Socket.IO (fast-check draws the
// inputs; FC_SEED=<n> replays a run). Every request-bearing message must get an error code back,
// the coordinator must keep serving, and the model bytes must not move.
const SEED = Number(process.env['FC_SEED'] ?? 20261130);
const CODES = new Set<string>(ERROR_CODES);
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => toHex(b));
const validId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/);

/** Handshakes: mostly almost right (so the challenge path is exercised too), each field sometimes wrong. */
const handshakeArb = fc.oneof(
  { weight: 1, arbitrary: fc.object() },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        protocolVersion: fc.oneof({ weight: 4, arbitrary: fc.constant(PROTOCOL_VERSION) }, fc.integer(), fc.anything()),
        clientId: fc.oneof({ weight: 3, arbitrary: validId }, fc.string(), fc.anything()),
        publicKey: fc.oneof({ weight: 3, arbitrary: hex(32) }, hex(31), fc.string(), fc.anything()),
        token: fc.oneof(fc.string(), fc.anything()),
        enrolment: fc.oneof(hex(64), fc.string()),
      },
      { requiredKeys: ['protocolVersion', 'clientId', 'publicKey'] },
    ),
  },
);

/** What a hostile device answers to a fit task: always broken in at least one way. */
function hostileFit(rng: fc.Arbitrary<number>): fc.Arbitrary<FitAnswer> {
  const good = () => constantUpdate(0.5, 3);
  return fc.oneof(
    fc.anything().map((ack): FitAnswer => ({ kind: 'ack', ack })),
    fc.anything().map((value): FitAnswer => ({ kind: 'ack', ack: { ok: true, value } })),
    fc.object().map((envelope): FitAnswer => ({ kind: 'ack', ack: { ok: true, value: { envelope } } })),
    fc.record({ code: fc.constantFrom(...ERROR_CODES), message: fc.string() }).map((error): FitAnswer => ({ kind: 'ack', ack: { ok: false, error } })),
    fc
      .tuple(rng, fc.constantFrom(NaN, Infinity, -Infinity))
      .map(([i, bad]): FitAnswer => ({ kind: 'update', payload: { ...good(), delta: good().delta.map((v, j) => (j === i % SHARED ? bad : v)) } })),
    fc
      .integer({ min: 0, max: 40 })
      .filter((n) => n !== SHARED)
      .map((n): FitAnswer => ({ kind: 'update', payload: { ...good(), delta: new Float32Array(n).fill(1) } })),
    fc.constantFrom(0, -1, NaN, Infinity, 2e9).map((numExamples): FitAnswer => ({ kind: 'update', payload: { ...good(), numExamples } })),
    fc
      .constantFrom(new Float32Array(ROWS).fill(-1), new Float32Array(ROWS + 2).fill(1))
      .map((rowWeights): FitAnswer => ({ kind: 'update', payload: { ...good(), rowWeights } })),
    fc
      .integer({ min: 33, max: 300 })
      .map((n): FitAnswer => ({ kind: 'update', payload: { ...good(), metrics: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])) } })),
    fc.uint8Array({ maxLength: 200 }).map((bytes): FitAnswer => ({ kind: 'update', payload: good(), tamper: () => bytes })),
    rng.map((cut): FitAnswer => ({ kind: 'update', payload: good(), tamper: (p) => p.subarray(0, cut % Math.max(1, p.length - 1)) })),
    fc
      .constantFrom<Partial<{ roundId: number; taskId: string; modelVersion: number; clientId: string }>>(
        { roundId: 1e6 },
        { taskId: 'not-mine' },
        { modelVersion: 99 },
        { clientId: 'someone-else' },
      )
      .map((bindAs): FitAnswer => ({ kind: 'update', payload: good(), bindAs })),
  );
}

/** One connection attempt with a hostile handshake: resolves with the code it was refused with. */
function hostileHandshake(url: string, auth: object, signature: string): Promise<string | undefined> {
  const socket: ClientIo = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise<string | undefined>((resolve) => {
    const done = (code: string | undefined) => {
      socket.close();
      resolve(code);
    };
    socket.once('connect_error', (err) => done(connectErrorData(err)?.code));
    // A well-formed handshake for a key we do not hold: whatever we sign with, the proof must be refused.
    socket.once('session:challenge', () => {
      void socket
        .timeout(10_000)
        .emitWithAck('session:prove', { signature })
        .then(
          (reply) => done(reply.ok ? 'ACCEPTED' : reply.error.code),
          () => done('NO ANSWER'),
        );
    });
    socket.once('session:welcome', () => done('WELCOMED'));
  });
}

function isErrorAck(reply: unknown): reply is { ok: false; error: ErrorInfo } {
  const r = reply as Ack<unknown>;
  return r?.ok === false && CODES.has(r.error?.code);
}

describe('coordinator: hostile input (property-based, over real Socket.IO)', function () {
  this.timeout(90_000);
  afterEach(stopAll);

  it('answers thousands of malformed handshakes, events and fit replies with error codes, stays up, and keeps the model bytes', async () => {
    const hostileDevices = 20;
    // The suite dials everything from loopback: the per-address limits would otherwise (rightly) throttle it.
    const { coordinator, url } = await startCoordinator({
      minClients: hostileDevices,
      minResults: 1,
      roundTimeoutMs: 3_000,
      retryDelayMs: 0,
      maxConnectionsPerAddress: 0,
      maxHandshakesPerSecond: 0,
    });
    const modelBefore = Buffer.from(encodeWeights(coordinator.currentWeights()).body as Uint8Array).toString('hex');

    // 1. Handshakes, 100 at a time.
    const handshakes = fc.sample(fc.tuple(handshakeArb, fc.oneof(hex(64), fc.string())), { numRuns: 600, seed: SEED });
    const handshakeCodes: Array<string | undefined> = [];
    for (let i = 0; i < handshakes.length; i += 100) {
      handshakeCodes.push(...(await Promise.all(handshakes.slice(i, i + 100).map(([auth, sig]) => hostileHandshake(url, auth, sig)))));
    }
    const badHandshakes = handshakeCodes.map((code, i) => ({ code, auth: handshakes[i]![0] })).filter((h) => !CODES.has(h.code ?? ''));
    assert.deepEqual(badHandshakes.slice(0, 3), [], `seed ${SEED}: every handshake refused with a code`);
    assert.ok(handshakeCodes.includes('PROOF_REJECTED'), 'the challenge path was exercised');

    // 2. Events with acks, from a proven device and from a connection that never proved itself.
    const events = fc
      .sample(
        fc.tuple(
          fc.oneof(fc.constantFrom('model:get', 'session:prove', 'round:fit', 'secagg:advertise', 'admin:shutdown'), fc.string({ maxLength: 30 })),
          fc.array(
            fc.oneof(
              fc.anything(),
              fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
            ),
            { maxLength: 3 },
          ),
        ),
        { numRuns: 3000, seed: SEED + 1 },
      )
      .filter(([event]) => !RESERVED.has(event));
    const proven = await connectFakeClient(url, { clientId: 'fuzzer' });
    const unproven: ClientIo = connect(url, {
      auth: { protocolVersion: PROTOCOL_VERSION, clientId: 'lurker', publicKey: toHex(new Uint8Array(32).fill(9)) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise((r) => unproven.once('session:challenge', r));
    const send = (socket: ClientIo, event: string, args: unknown[]) =>
      (socket as unknown as { timeout(ms: number): { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> } }).timeout(30_000).emitWithAck(event, ...args);
    const replies = await Promise.all(
      events.map(([event, args], i) => send(i % 6 === 5 ? unproven : proven.socket, event, args).catch((e: unknown) => String(e))),
    );
    const unanswered = replies
      .map((reply, i) => ({ reply, event: events[i]![0], fromProven: i % 6 !== 5 }))
      .filter(({ reply, event, fromProven }) => !isErrorAck(reply) && !(fromProven && event === 'model:get' && (reply as Ack<unknown>).ok === true));
    assert.deepEqual(unanswered.slice(0, 3), [], `seed ${SEED}: every event answered with a code`);
    assert.ok(
      replies.filter((_r, i) => i % 6 === 5).every((r) => isErrorAck(r) && ['UNAUTHORIZED', 'INVALID_PAYLOAD', 'PROOF_REJECTED'].includes(r.error.code)),
      'an unproven connection gets nothing but refusals',
    );
    proven.close();
    unproven.close();
    await until(() => coordinator.status().connectedClients === 0, 5_000, 'the fuzzer gone');

    // 3. Fit replies: hostile devices answer every task with a broken result until 600 verdicts are in.
    const answers = fc.sample(hostileFit(fc.nat()), { numRuns: 2000, seed: SEED + 2 });
    let next = 0;
    const devices: FakeClient[] = await Promise.all(
      Array.from({ length: hostileDevices }, (_, d) => connectFakeClient(url, { clientId: `hostile-${d}`, fit: () => answers[next++ % answers.length]! })),
    );
    try {
      await until(() => devices.reduce((n, d) => n + d.results.length, 0) >= 600, 60_000, '600 verdicts');
      const verdicts = devices.flatMap((d) => d.results);
      assert.ok(
        verdicts.every((v) => !v.accepted && CODES.has(v.error?.code ?? '')),
        `seed ${SEED}: every broken fit reply was refused with a code`,
      );
    } finally {
      devices.forEach((d) => d.close());
    }

    // Still up, and the model never moved.
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal(coordinator.modelVersion, 0);
    assert.equal(coordinator.status().roundsCommitted, 0);
    assert.equal(Buffer.from(encodeWeights(coordinator.currentWeights()).body as Uint8Array).toString('hex'), modelBefore);
    const honest = await connectFakeClient(url, { clientId: 'honest-after' });
    try {
      const snapshot = await honest.socket.timeout(5_000).emitWithAck('model:get', {});
      assert.ok(snapshot.ok);
    } finally {
      honest.close();
    }
  });
});
