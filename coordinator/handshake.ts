import { createHash, timingSafeEqual } from 'node:crypto';
import { PROTOCOL_VERSION, handshakeSchema } from '@fedrec/protocol';
import type { ErrorCode, ErrorInfo } from '@fedrec/protocol';
import type { Logger } from './logger.js';
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
function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** Socket.IO middleware: protocol version first (so future handshakes fail clearly), then shape, then token. */
export function handshakeMiddleware(authToken: string | undefined, logger: Logger) {
  return (socket: ClientSocket, next: (err?: Error) => void): void => {
    const refuse = (code: ErrorCode, message: string): void => {
      logger.warn({ code, address: socket.handshake.address }, `connection refused: ${message}`);
      next(new ConnectError(code, message));
    };
    const auth: unknown = socket.handshake.auth;
    const claimed = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).protocolVersion : undefined;
    if (typeof claimed === 'number' && claimed !== PROTOCOL_VERSION) {
      return refuse('PROTOCOL_VERSION_MISMATCH', `coordinator speaks protocol ${PROTOCOL_VERSION}, client ${claimed}`);
    }
    const parsed = handshakeSchema.safeParse(auth);
    if (!parsed.success) return refuse('INVALID_PAYLOAD', `bad handshake: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (authToken !== undefined && !tokenMatches(parsed.data.token, authToken)) return refuse('UNAUTHORIZED', 'missing or wrong token');
    socket.data.clientId = parsed.data.clientId;
    socket.data.connectedAt = Date.now();
    if (parsed.data.runtime) socket.data.runtime = parsed.data.runtime;
    next();
  };
}
