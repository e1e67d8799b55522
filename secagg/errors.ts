import { ProtocolError, type ErrorCode } from '@fedrec/protocol/errors.js';

/** Why a secure-aggregation step was refused; the ack code alone does not say. */
export type SecAggRefusal =
  | 'WRONG_STAGE'
  | 'WRONG_ROUND'
  | 'BAD_ROSTER'
  | 'BAD_SHARES'
  | 'BELOW_THRESHOLD'
  | 'BOTH_SHARES_REQUESTED'
  | 'UNEXPECTED_PEER'
  | 'BAD_INPUT'
  | 'NOT_IN_ROUND'
  | 'DUPLICATE';

/** A ProtocolError (so socket wrappers ack it with a code) that also names the secagg reason. */
export class SecAggError extends ProtocolError {
  readonly reason: SecAggRefusal;
  constructor(reason: SecAggRefusal, message: string, code: ErrorCode = codeFor(reason)) {
    super(code, message);
    this.name = 'SecAggError';
    this.reason = reason;
  }
}

function codeFor(reason: SecAggRefusal): ErrorCode {
  switch (reason) {
    case 'WRONG_ROUND':
      return 'WRONG_ROUND';
    case 'WRONG_STAGE':
      return 'ROUND_CLOSED';
    case 'NOT_IN_ROUND':
      return 'NOT_SELECTED';
    case 'DUPLICATE':
      return 'DUPLICATE_UPDATE';
    default:
      return 'INVALID_PAYLOAD';
  }
}
