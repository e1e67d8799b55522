import type { ErrorCode } from '@fedrec/protocol';

/** Why a selected client did not contribute: a protocol error code, or what happened on the wire. */
export type FailureCode = ErrorCode | 'TIMEOUT' | 'DISCONNECTED' | 'ABORTED';

/** Failures are data, not exceptions: each one is recorded in the round's history. */
export interface Failure {
  clientId: string;
  taskId: string;
  phase: 'fit' | 'evaluate';
  code: FailureCode;
  message: string;
}
