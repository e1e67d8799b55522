import { z } from 'zod';
import { itemIdSchema } from '@fedrec/protocol';

export const BEHAVIOUR_KINDS = ['view', 'click', 'purchase', 'rating'] as const;

/** One thing a user did with an item; it never leaves the device. */
export const behaviourEventSchema = z.object({
  /** The app's item id (1-128 of [A-Za-z0-9_.:/@+-]), or a whole number n meaning the id "n". */
  itemId: z.union([itemIdSchema, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  kind: z.enum(BEHAVIOUR_KINDS),
  value: z.number().finite().optional(),
  /** Epoch milliseconds. */
  timestamp: z.number().finite().min(0),
});
export type BehaviourEvent = z.infer<typeof behaviourEventSchema>;

/** What `record()` accepts: the timestamp defaults to now. */
export const behaviourInputSchema = behaviourEventSchema.extend({ timestamp: z.number().finite().min(0).optional() });
export type BehaviourInput = z.input<typeof behaviourInputSchema>;

/** Positive feedback: clicks and purchases, ratings of 4 or more; a plain view is a negative. */
export function isPositive(e: BehaviourEvent): boolean {
  if (e.kind === 'rating') return (e.value ?? 0) >= 4;
  return e.kind === 'click' || e.kind === 'purchase';
}
