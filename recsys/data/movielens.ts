import { parseDelimitedInteractions } from './delimited.js';
import type { InteractionDataset } from './types.js';

/** MovieLens u.data: `user item rating timestamp`, tab separated, no header; all four fields required. */
export function parseMovieLens(text: string): InteractionDataset {
  return parseDelimitedInteractions(text, {
    delimiter: '\t',
    header: false,
    columns: { user: 0, item: 1, rating: 2, timestamp: 3 },
    requireRating: true,
    requireTimestamp: true,
  });
}
