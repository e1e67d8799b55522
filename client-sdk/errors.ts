import { ERROR_CODES, type ErrorCode } from '@fedrec/protocol';

/** Codes the client raises on its own, besides the ones a coordinator can send. */
export type ClientErrorCode =
  | ErrorCode
  | 'FINGERPRINT_MISMATCH'
  | 'CONNECT_TIMEOUT'
  | 'NOT_CONNECTED'
  | 'CLOSED'
  | 'NOT_SUPPORTED'
  // The coordinator could not be reached at all (see transport-errors.ts):
  | 'CONNECTION_REFUSED'
  | 'HOST_NOT_FOUND'
  | 'TLS_ERROR';

/** An error with a code an app can branch on (connect refusals, pinning failures, ...). */
export class FederatedClientError extends Error {
  readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FederatedClientError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether a value off the wire is one of the protocol's error codes. */
export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}
