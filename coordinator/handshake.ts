import { createHash, timingSafeEqual } from 'node:crypto';
import { PROTOCOL_VERSION, handshakeSchema } from '@fedrec/protocol';
import type { ErrorCode, ErrorInfo } from '@fedrec/protocol';
import type { AddressLimits } from './address-limits.js';
import type { EnrolmentPolicy } from './enrolment.js';
import type { IdentityStore } from './identity-registry.js';
import type { LogRateLimiter } from './log-limiter.js';
import type { ClientSocket } from './socket-types.js';

/** A connect error the client receives as `connect_error` with `err.data = { code, message }`. */
export class ConnectError extends Error {
  readonly data: ErrorInfo;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ConnectError';
    this.data = { code, message };
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares tokens in constant time (hashing first makes the lengths equal). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

export interface HandshakeDeps {
  authToken: string | undefined;
  identities: IdentityStore;
  enrolment: EnrolmentPolicy;
  limits: AddressLimits;
  logs: LogRateLimiter;
  /** Take the client address from X-Forwarded-For (only behind a reverse proxy you run). */
  trustProxy: boolean;
}

/** The address limits and logs count against: the peer, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientAddress(socket: Pick<ClientSocket, 'handshake'>, trustProxy: boolean): string {
  if (trustProxy) {
    const header = socket.handshake.headers['x-forwarded-for'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return socket.handshake.address;
}

/**
 * Socket.IO middleware, cheapest checks first: per-address limits, protocol version (so future
 * handshakes fail clearly), shape, the shared token (an optional outer gate), enrolment, and the
 * client id's binding. Possession of the key is proven after this, by the signed challenge.
 */
export function handshakeMiddleware(deps: HandshakeDeps) {
  return (socket: ClientSocket, next: (err?: Error) => void): void => {
    const address = clientAddress(socket, deps.trustProxy);
    const logger = deps.logs.forKey(`address:${address}`);
    const refuse = (code: ErrorCode, message: string): void => {
      logger.warn({ code, address }, `connection refused: ${message}`);
      next(new ConnectError(code, message));
    };
    const limited = deps.limits.admit(address);
    if (limited) return refuse('RATE_LIMITED', limited);
    const auth: unknown = socket.handshake.auth;
    const claimed = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).protocolVersion : undefined;
    if (typeof claimed === 'number' && claimed !== PROTOCOL_VERSION) {
      return refuse('PROTOCOL_VERSION_MISMATCH', `coordinator speaks protocol ${PROTOCOL_VERSION}, client ${claimed}`);
    }
    const parsed = handshakeSchema.safeParse(auth);
    if (!parsed.success) return refuse('INVALID_PAYLOAD', `bad handshake: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const { clientId, publicKey, token, enrolment } = parsed.data;
    if (deps.authToken !== undefined && !tokenMatches(token, deps.authToken)) return refuse('UNAUTHORIZED', 'missing or wrong token');
    if (!deps.enrolment.admits(clientId, publicKey, enrolment)) return refuse('NOT_ENROLLED', `device key of ${clientId} is not enrolled`);
    const bound = deps.identities.keyOf(clientId);
    if (bound !== undefined && bound !== publicKey) return refuse('IDENTITY_MISMATCH', `client id ${clientId} belongs to another device key`);
    socket.data.clientId = clientId;
    socket.data.publicKey = publicKey;
    socket.data.address = address;
    socket.data.connectedAt = Date.now();
    if (parsed.data.runtime) socket.data.runtime = parsed.data.runtime;
    next();
  };
}
