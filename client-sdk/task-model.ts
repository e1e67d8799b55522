import { z } from 'zod';
import { ProtocolError, fail, modelVersionSchema, type Ack, type WireWeights } from '@fedrec/protocol';
import { FederatedClientError, errorMessage, isErrorCode } from './errors.js';
import type { TaskRoute } from './task-route.js';

/** Where a task's model comes from: the device's held copy of that version, or one model:get (model-fetch.ts). */
export interface TaskModels {
  /** `waitMs`: how long the download may take (the task's time left). */
  wireFor(modelVersion: number, waitMs?: number): Promise<WireWeights>;
  /** A task named the catalogue version its model belongs to. */
  catalogueHeard?(catalogueVersion: number | undefined): void;
}

/** Just the fields that address a task's model; the route's own schema validates the whole task afterwards. */
const modelRefSchema = z.object({ modelVersion: modelVersionSchema, catalogueVersion: modelVersionSchema.optional(), deadline: z.number().optional() });

/** The longest a task's model download may wait: until the task's deadline (clocks differ, so at most this). */
const MAX_MODEL_WAIT_MS = 10 * 60_000;

/**
 * Wraps a task route (round:fit, round:evaluate, secagg:advertise) so that a task naming a model
 * version without carrying the weights runs on that version: the device's copy when it holds it,
 * else one download. The weights are put where the task would have carried them, so the route (and
 * secure aggregation's stage 0) work unchanged. A task that carries weights, or whose version fields
 * are malformed, goes straight to the route (which validates it and refuses what is wrong).
 */
export function withTaskModel(route: TaskRoute, models: TaskModels): TaskRoute {
  return {
    event: route.event,
    listener: (logger) => {
      const inner = route.listener(logger);
      return (payload, ack) => {
        const isTask = typeof payload === 'object' && payload !== null && !Array.isArray(payload);
        const ref = isTask && !('weights' in payload) ? modelRefSchema.safeParse(payload) : undefined;
        if (!ref?.success || typeof ack !== 'function') {
          inner(payload, ack);
          return;
        }
        models.catalogueHeard?.(ref.data.catalogueVersion);
        const left = ref.data.deadline !== undefined && Number.isFinite(ref.data.deadline) ? ref.data.deadline - Date.now() : 0;
        models.wireFor(ref.data.modelVersion, Math.min(Math.max(left, 0), MAX_MODEL_WAIT_MS)).then(
          (weights) => inner({ ...(payload as object), weights }, ack),
          (err: unknown) => {
            const reply: Ack<never> =
              err instanceof ProtocolError
                ? { ok: false, error: err.toInfo() }
                : fail(
                    err instanceof FederatedClientError && isErrorCode(err.code) ? err.code : 'INTERNAL',
                    `model ${ref.data.modelVersion}: ${errorMessage(err)}`,
                  );
            logger.warn({ event: route.event, modelVersion: ref.data.modelVersion, ...(reply.ok ? {} : reply.error) }, 'could not get the task model');
            try {
              (ack as (reply: Ack<never>) => void)(reply);
            } catch (e) {
              logger.warn({ event: route.event, err: errorMessage(e) }, 'could not send acknowledgement');
            }
          },
        );
      };
    },
  };
}
