import type { z } from 'zod';
import { failFrom } from '@fedrec/protocol';
import { ackSchema, knownCode } from './ack.js';
import type { FailureCode } from './failure.js';
import { requestWithDeadline, type RequestEvent, type RequestPayload } from './request.js';
import type { ClientSocket } from './socket-types.js';

/** One client's request in a phase: who, over which socket, with what. */
export interface PhaseRequest<E extends RequestEvent> {
  clientId: string;
  socket: ClientSocket;
  payload: RequestPayload<E>;
}

/**
 * Where a client's request ended without a result: no answer in time (`no-answer`: TIMEOUT,
 * DISCONNECTED, ABORTED), an ack of the wrong shape (`malformed`), the client said no
 * (`refused`, its code), or `accept` refused its answer (`rejected`, the ProtocolError's code).
 */
export interface PhaseFailure {
  clientId: string;
  code: FailureCode;
  message: string;
  reason: 'no-answer' | 'malformed' | 'refused' | 'rejected';
  /** What `accept` threw, for `rejected` (an INTERNAL code means it was not a ProtocolError). */
  error?: unknown;
}

export type PhaseVerdict<R> = { ok: true; result: R } | { ok: false; failure: PhaseFailure };

export interface DispatchPhaseOptions<E extends RequestEvent, T, R> {
  event: E;
  requests: Iterable<PhaseRequest<E>>;
  /** Schema of the value inside a successful ack (`{ ok: true, value }`). */
  reply: z.ZodType<T>;
  /** Epoch ms: a client that has not answered by then is a TIMEOUT. */
  deadline: number;
  /** Aborts every open request (the coordinator is stopping): they become ABORTED. */
  signal: AbortSignal;
  /** Checks and uses one valid answer; throws (a ProtocolError says which code) to reject it. */
  accept: (clientId: string, value: T) => R | Promise<R>;
  /** Called once per client as soon as its verdict is known (e.g. to tell it at once). */
  settled?: (clientId: string, verdict: PhaseVerdict<R>) => void;
}

export interface PhaseOutcome<R> {
  /** In the order they were accepted. */
  results: Array<{ clientId: string; result: R }>;
  /** In the order they happened. */
  failures: PhaseFailure[];
}

/**
 * The one request → ack → verdict loop every phase runs (fit, each SecAgg stage, evaluate): sends each
 * request with the deadline, validates the ack, lets `accept` take or refuse the value, and resolves
 * once every client has a verdict (early when all answered, at the deadline at the latest).
 */
export async function dispatchPhase<E extends RequestEvent, T, R>(options: DispatchPhaseOptions<E, T, R>): Promise<PhaseOutcome<R>> {
  const { event, deadline, signal, accept, settled } = options;
  const ackOf = ackSchema(options.reply);
  const outcome: PhaseOutcome<R> = { results: [], failures: [] };

  const verdictFor = async (request: PhaseRequest<E>): Promise<PhaseVerdict<R>> => {
    const fail = (reason: PhaseFailure['reason'], code: FailureCode, message: string, error?: unknown): PhaseVerdict<R> => ({
      ok: false,
      failure: { clientId: request.clientId, code, message, reason, ...(error !== undefined ? { error } : {}) },
    });
    const answer = await requestWithDeadline(request.socket, event, request.payload, deadline, signal);
    if (answer.kind === 'failure') return fail('no-answer', answer.code, answer.message);
    const ack = ackOf.safeParse(answer.reply);
    if (!ack.success) return fail('malformed', 'INVALID_PAYLOAD', `malformed ${event} ack: ${ack.error.issues[0]?.message ?? 'invalid'}`);
    if (!ack.data.ok) return fail('refused', knownCode(ack.data.error.code), `client reported: ${ack.data.error.message}`);
    try {
      return { ok: true, result: await accept(request.clientId, ack.data.value as T) };
    } catch (err) {
      const info = failFrom(err);
      const error = info.ok ? { code: 'INTERNAL' as const, message: 'unexpected' } : info.error;
      return fail('rejected', error.code, error.message, err);
    }
  };

  const run = async (request: PhaseRequest<E>): Promise<void> => {
    const verdict = await verdictFor(request);
    if (verdict.ok) outcome.results.push({ clientId: request.clientId, result: verdict.result });
    else outcome.failures.push(verdict.failure);
    settled?.(request.clientId, verdict);
  };
  const running: Array<Promise<void>> = [];
  let sent = 0;
  for (const request of options.requests) {
    // Each request is a socket write (a syscall, and on loopback the receiver's side of TCP too): sending a
    // round's thousands in one go held the event loop for hundreds of ms at the round's start, the slowest
    // `/api/status` answers of a 1,000-client round. A turn of the loop between slices lets them through.
    if (sent > 0 && sent % DISPATCH_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    running.push(run(request));
    sent += 1;
  }
  await Promise.all(running);
  return outcome;
}

/** Requests sent per turn of the event loop (see dispatchPhase). */
export const DISPATCH_SLICE = 32;
