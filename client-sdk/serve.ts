import { z } from 'zod';
import { ProtocolError, fail, failFrom, ok, type Ack } from '@fedrec/protocol';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

const MAX_MESSAGE_CHARS = 500;

/**
 * The one wrapper every request handler goes through: validate the payload, run, catch,
 * answer `{ ok: false, error: { code, message } }` and log. Nothing escapes as a rejection.
 */
export function serveAck<TSchema extends z.ZodType, TReply>(options: {
  event: string;
  schema: TSchema;
  logger: Logger;
  handle: (payload: z.output<TSchema>) => Promise<TReply>;
}): (payload: unknown, ack: unknown) => void {
  const { event, schema, logger, handle } = options;
  return (payload, ack) => {
    if (typeof ack !== 'function') {
      logger.warn({ event }, 'request without an acknowledgement callback: ignored');
      return;
    }
    const answer = (reply: Ack<TReply>) => {
      try {
        (ack as (reply: Ack<TReply>) => void)(reply);
      } catch (err) {
        logger.warn({ event, err: errorMessage(err) }, 'could not send acknowledgement');
      }
    };
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const message = z.prettifyError(parsed.error).slice(0, MAX_MESSAGE_CHARS);
      logger.warn({ event, code: 'INVALID_PAYLOAD', message }, 'rejected malformed request');
      answer(fail('INVALID_PAYLOAD', `invalid ${event} payload: ${message}`));
      return;
    }
    handle(parsed.data).then(
      (value) => answer(ok(value)),
      (err: unknown) => {
        const reply = err instanceof ProtocolError ? failFrom(err) : fail('INTERNAL', errorMessage(err).slice(0, MAX_MESSAGE_CHARS));
        logger.warn({ event, ...(reply.ok ? {} : reply.error) }, 'request failed');
        answer(reply);
      },
    );
  };
}
