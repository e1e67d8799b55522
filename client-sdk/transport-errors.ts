import type { ClientErrorCode } from './errors.js';

/** Node's TLS verification failures (tls.connect / OpenSSL), besides the ERR_TLS_* and *CERT* families. */
const TLS_CODES = new Set(['EPROTO', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_SSL_WRONG_VERSION_NUMBER']);

/** A transport failure that retrying will not cure on its own, with the code the client rejects connect() with. */
export interface TransportFailure {
  code: Extract<ClientErrorCode, 'CONNECTION_REFUSED' | 'HOST_NOT_FOUND' | 'TLS_ERROR'>;
  /** The system's own code and text, e.g. "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8080". */
  detail: string;
}

/**
 * Reads the cause out of socket.io-client's connect_error: in Node its `description` is the ws
 * ErrorEvent whose `error` carries the system code (ECONNREFUSED, ENOTFOUND, a certificate code).
 * Browsers do not expose the cause, so there this finds nothing and the connect timeout applies.
 */
export function transportFailure(err: Error & { description?: unknown }): TransportFailure | undefined {
  const description = err.description as { error?: { code?: unknown; message?: unknown }; message?: unknown } | undefined;
  const cause = description?.error;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === undefined) return undefined;
  const detail = `${code}: ${typeof cause?.message === 'string' ? cause.message : err.message}`;
  if (code === 'ECONNREFUSED') return { code: 'CONNECTION_REFUSED', detail };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return { code: 'HOST_NOT_FOUND', detail };
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.includes('CERT')) return { code: 'TLS_ERROR', detail };
  return undefined;
}
