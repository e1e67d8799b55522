import { z } from 'zod';
import { stalenessPolicySchema } from './staleness.js';

/** `mode: 'sync'` runs rounds (round-engine.ts); 'buffered' runs FedBuff (buffered-engine.ts). */
export const COORDINATOR_MODES = ['sync', 'buffered'] as const;

/** Settings of buffered (FedBuff) mode; ignored in sync mode. */
export const bufferedOptionsSchema = z.strictObject({
  /** K: accepted updates per committed version. */
  bufferSize: z.number().int().min(1).default(10),
  /** Updates trained on a model more than this many versions behind are refused (STALE_UPDATE). */
  maxStaleness: z.number().int().min(0).default(20),
  staleness: stalenessPolicySchema.default(stalenessPolicySchema.parse({})),
  /** Most fit tasks in flight at once ('all' = every connected client may train at the same time). */
  concurrency: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
});

export type BufferedOptions = z.output<typeof bufferedOptionsSchema>;

/** What buffered mode cannot combine with, said at start rather than discovered mid-run. */
export function bufferedRefusal(o: { mode: (typeof COORDINATOR_MODES)[number]; secureAggregation: string }): string | undefined {
  if (o.mode !== 'buffered') return undefined;
  // SecAgg over each buffer of K would need the K clients known before they train; here a buffer is
  // whoever answers first, so the masks cannot be agreed in advance. Refused rather than half-done.
  if (o.secureAggregation !== 'off')
    return `mode 'buffered' does not combine with secureAggregation '${o.secureAggregation}' (a buffer is whoever answers first, so no SecAgg roster exists before training); use mode 'sync' for secure aggregation, or secureAggregation 'off' (npm start: --secure-aggregation off; its default is secagg+)`;
  return undefined;
}
