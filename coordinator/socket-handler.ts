import { z } from 'zod';
import { fail, failFrom, ok } from '@fedrec/protocol';
import type { Ack } from '@fedrec/protocol';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';

/**
 * The one wrapper every client→server handler goes through: validates the payload, runs the
 * handler, answers `{ ok, value }` or `{ ok: false, error: { code, message } }`, and logs.
 * Nothing a client sends can throw out of here (an async throw would be an unhandled rejection).
 */
export function socketHandler<P, R>(event: string, schema: z.ZodType<P>, logger: Logger, run: (payload: P) => R | Promise<R>): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const last = args.at(-1);
    const ack = typeof last === 'function' ? (args.pop() as (reply: Ack<R>) => void) : undefined;
    const reply = (answer: Ack<R>): void => {
      try {
        ack?.(answer);
      } catch (err) {
        logger.error({ event, ...errorFields(err) }, 'sending an ack failed');
      }
    };
    const handle = async (): Promise<void> => {
      const parsed = schema.safeParse(args.length <= 1 ? args[0] : args);
      if (!parsed.success) {
        logger.warn({ event, reason: parsed.error.issues[0]?.message }, 'invalid payload');
        return reply(fail('INVALID_PAYLOAD', `${event}: ${z.prettifyError(parsed.error)}`));
      }
      try {
        reply(ok(await run(parsed.data)));
      } catch (err) {
        const answer = failFrom(err);
        if (!answer.ok && answer.error.code === 'INTERNAL') logger.error({ event, ...errorFields(err) }, 'handler failed');
        else logger.warn({ event, ...errorFields(err) }, 'handler refused');
        reply(answer);
      }
    };
    handle().catch((err: unknown) => logger.error({ event, ...errorFields(err) }, 'socket handler crashed'));
  };
}
