import { z } from 'zod';

export const BEHAVIOUR_KINDS = ['view', 'click', 'purchase', 'rating'] as const;

/** One thing a user did with an item; it never leaves the device. */
export const behaviourEventSchema = z.object({
  itemId: z.union([z.string().min(1).max(256), z.number().int().min(0)]),
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
