import type { z } from 'zod';
import type { ClientSocket } from './connection.js';
import type { Logger } from './logger.js';
import { serveAck } from './serve.js';

/** The coordinator's requests a client answers through an ack: round tasks and secure-aggregation stages. */
export type TaskEvent = 'round:fit' | 'round:evaluate' | 'secagg:advertise' | 'secagg:roster' | 'secagg:forward' | 'secagg:unmask';

/** One request the task runner answers: its event, the schema its payload must pass, the work. */
export interface TaskRoute {
  event: TaskEvent;
  listener(logger: Logger): (payload: unknown, ack: unknown) => void;
}

/** A route whose payload is validated by `schema` and answered through the one wrapper (serve.ts). */
export function taskRoute<TSchema extends z.ZodType, TReply>(
  event: TaskEvent,
  schema: TSchema,
  handle: (payload: z.output<TSchema>) => Promise<TReply>,
): TaskRoute {
  return { event, listener: (logger) => serveAck({ event, schema, logger, handle }) };
}

/** Listens for every route on a (new) socket. */
export function serveRoutes(socket: ClientSocket, routes: readonly TaskRoute[], logger: Logger): void {
  for (const route of routes) socket.on(route.event, route.listener(logger));
}

/** Extra stages plugged into the task runner (secure aggregation's): their routes, and what a round's end clears. */
export interface TaskStages {
  routes: readonly TaskRoute[];
  /** The coordinator's verdict (round:result) closed this round. */
  roundEnded(roundId: number): void;
}
