/** Error codes carried in `{ ok: false, error: { code, message } }` acks and connect errors. */
export const ERROR_CODES = [
  'PROTOCOL_VERSION_MISMATCH',
  'UNAUTHORIZED',
  /** The client id is bound to another device key (an impersonation attempt, or a device that lost its key). */
  'IDENTITY_MISMATCH',
  /** The handshake signature did not verify (wrong key, a replayed or expired nonce). */
  'PROOF_REJECTED',
  /** Enrolment mode: no valid enrolment token and the key is not on the allowed list. */
  'NOT_ENROLLED',
  /** Too many connections or handshakes from one address: retry later. */
  'RATE_LIMITED',
  /** A plain (non-TLS) connection outside loopback where TLS is required, or a credential that would cross in clear text. */
  'INSECURE_TRANSPORT',
  'INVALID_PAYLOAD',
  'WRONG_ROUND',
  'NOT_SELECTED',
  'DUPLICATE_UPDATE',
  'MANIFEST_MISMATCH',
  'NON_FINITE_VALUES',
  'TOO_LARGE',
  'ENVELOPE_REJECTED',
  'ROUND_CLOSED',
  'TRAINING_FAILED',
  'BUSY',
  'INTERNAL',
  /** A catalogue addition names an id the catalogue already has. */
  'DUPLICATE_ITEM',
  /** The catalogue cannot grow here: a fixed-round run, or a model without numItems. */
  'CATALOGUE_CLOSED',
  /** The coordinator's update worker died while holding this update (a server fault: the update did not count). */
  'UPDATE_WORKER_FAILED',
  /** Buffered mode: the update was trained on a model more versions behind the current one than maxStaleness allows. */
  'STALE_UPDATE',
  /** An update (or a model request) in another encoding than the run's compression (protocol/compression.ts). */
  'WRONG_ENCODING',
  /** model:get named a model version the coordinator no longer (or does not yet) serve. */
  'MODEL_UNAVAILABLE',
  /** A paced plain upload (the task said uploadSlot) sent without a live slot: never asked, still queued, or the grant expired. */
  'UPLOAD_SLOT_REQUIRED',
  /** upload:slot asked again for a task that already has a slot request queued or granted (one per task). */
  'UPLOAD_SLOT_DUPLICATE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** The one shape every acknowledgement takes: a value, or an error with a code. */
export type Ack<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** An error that knows the code to send back to the peer. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

export function ok<T>(value: T): Ack<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string): Ack<never> {
  return { ok: false, error: { code, message } };
}

/** Turns anything thrown into an error ack, keeping the code of a ProtocolError. */
export function failFrom(err: unknown): Ack<never> {
  if (err instanceof ProtocolError) return { ok: false, error: err.toInfo() };
  const message = err instanceof Error ? err.message : String(err);
  return fail('INTERNAL', message);
}
