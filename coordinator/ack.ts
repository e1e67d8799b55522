import { z } from 'zod';
import { ERROR_CODES } from '@fedrec/protocol';
import type { ErrorCode } from '@fedrec/protocol';

const errorInfoSchema = z.object({ code: z.string().max(64), message: z.string().max(4096) });

/** Validates a client's ack (`{ ok, value } | { ok, error }`), whose value must match `value`. */
export function ackSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), value }), z.object({ ok: z.literal(false), error: errorInfoSchema })]);
}

/** A client-reported code we do not know is treated as a training failure. */
export function knownCode(code: string): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'TRAINING_FAILED';
}
