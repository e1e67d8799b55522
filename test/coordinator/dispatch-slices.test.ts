import assert from 'node:assert/strict';
import { z } from 'zod';
import { DISPATCH_SLICE, dispatchPhase, type PhaseRequest } from '@fedrec/coordinator/dispatch-phase.js';
import type { ClientSocket } from '@fedrec/coordinator/socket-types.js';

/**
 * A coordinator-side socket stand-in: not a Socket.IO Socket, so requestWithDeadline reaches it the way it
 * reaches a client on another node (`timeout(ms).emit(event, payload, ack)`). It records when it was asked
 * and answers when the test says.
 */
class StubSocket {
  connected = true;
  asked = false;
  answer: ((err: unknown, reply: unknown) => void) | undefined;
  constructor(private readonly log: string[]) {}
  once(): this {
    return this;
  }
  off(): this {
    return this;
  }
  timeout(): { emit: (event: string, payload: unknown, ack: (err: unknown, reply: unknown) => void) => void } {
    return {
      emit: (_event, _payload, ack) => {
        this.asked = true;
        this.answer = ack;
        this.log.push('request');
      },
    };
  }
  asSocket(): ClientSocket {
    return this as unknown as ClientSocket;
  }
}

// dispatchPhase sends a phase's requests a slice at a time, with a turn of the event loop in between, so
// that a round of thousands does not hold the loop (and `/api/status`) for the whole send (issue 12).
/** A fit phase asking each stub socket (or each request given) for `{ n }` and accepting n. */
function startPhase(sockets: StubSocket[], controller: AbortController, requests?: Iterable<PhaseRequest<'round:fit'>>) {
  return dispatchPhase({
    event: 'round:fit',
    requests: requests ?? sockets.map((s, i) => ({ clientId: `c${i}`, socket: s.asSocket(), payload: {} as never })),
    reply: z.object({ n: z.number() }),
    deadline: Date.now() + 20_000,
    signal: controller.signal,
    accept: (_clientId, value: { n: number }) => value.n,
  });
}

describe('coordinator: dispatch in slices', function () {
  this.timeout(30_000);

  it(`sends ${DISPATCH_SLICE} requests per turn of the event loop, and still collects every verdict`, async () => {
    const log: string[] = [];
    const sockets = Array.from({ length: DISPATCH_SLICE * 3 + 5 }, () => new StubSocket(log));
    // Queued before the phase starts: it runs at the first turn the phase gives back.
    setImmediate(() => log.push('turn'));
    const controller = new AbortController();
    const phase = startPhase(sockets, controller);
    // Every request is out once the phase has taken its turns.
    while (!sockets.every((s) => s.asked)) await new Promise((r) => setImmediate(r));
    assert.equal(log.indexOf('turn'), DISPATCH_SLICE, 'the event loop got a turn right after the first slice');
    sockets.forEach((s, i) => s.answer!(null, { ok: true, value: { n: i } }));
    const outcome = await phase;
    assert.equal(outcome.results.length, sockets.length);
    assert.deepEqual(
      outcome.results.map((r) => r.result).sort((a, b) => a - b),
      sockets.map((_, i) => i),
    );
  });

  it('builds requests given as a generator as it sends them: each one just before its send, a slice per turn', async () => {
    const log: string[] = [];
    const sockets = Array.from({ length: DISPATCH_SLICE * 2 + 3 }, () => new StubSocket(log));
    // What the plain collector does per client before its task goes out (build the task, listen for upload:slot).
    function* requests() {
      for (const [i, s] of sockets.entries()) {
        log.push('build');
        yield { clientId: `c${i}`, socket: s.asSocket(), payload: {} as never };
      }
    }
    setImmediate(() => log.push('turn'));
    const controller = new AbortController();
    const phase = startPhase(sockets, controller, requests());
    while (!sockets.every((s) => s.asked)) await new Promise((r) => setImmediate(r));
    // build, request, build, request, ...: the first turn comes after one slice (and the next request's build).
    const firstTurn = log.indexOf('turn');
    assert.equal(log.slice(0, firstTurn).filter((e) => e === 'build').length, DISPATCH_SLICE + 1, 'only the first slice was built before the turn');
    assert.deepEqual(log.slice(0, 4), ['build', 'request', 'build', 'request']);
    sockets.forEach((s, i) => s.answer!(null, { ok: true, value: { n: i } }));
    assert.equal((await phase).results.length, sockets.length);
  });

  it('an abort settles every open request as ABORTED, and requests answered before it keep their verdict', async () => {
    const log: string[] = [];
    const sockets = Array.from({ length: 200 }, () => new StubSocket(log));
    const controller = new AbortController();
    const phase = startPhase(sockets, controller);
    while (!sockets.every((s) => s.asked)) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) sockets[i]!.answer!(null, { ok: true, value: { n: i } });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    const outcome = await phase;
    assert.equal(outcome.results.length, 50);
    assert.equal(outcome.failures.length, 150);
    assert.ok(outcome.failures.every((f) => f.code === 'ABORTED'));
    // Late answers after the abort change nothing.
    sockets[199]!.answer!(null, { ok: true, value: { n: 199 } });
    assert.equal(outcome.results.length, 50);
  });
});
