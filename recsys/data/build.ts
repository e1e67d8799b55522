import type { InteractionDataset, LoadSummary } from './types.js';

/** One parsed row with ids as they appear in the source. */
export interface RawInteraction {
  user: string;
  item: string;
  rating: number;
  timestamp: number;
}

/** Orders source ids numerically when they all are numbers, else as strings: stable dense ids. */
function sortIds(ids: Iterable<string>): string[] {
  const list = [...ids];
  const numeric = list.every((id) => /^-?\d+(\.\d+)?$/.test(id));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

/**
 * Removes repeated (user, item) pairs (keeping the latest by timestamp, first on ties) and
 * re-indexes ids to 0..n-1 with maps back to the source ids.
 */
export function buildDataset(rows: RawInteraction[], counts: { lines: number; malformed: number }): InteractionDataset {
  const latest = new Map<string, RawInteraction>();
  let duplicates = 0;
  for (const row of rows) {
    const key = `${row.user}\u0000${row.item}`;
    const seen = latest.get(key);
    if (seen) {
      duplicates++;
      if (row.timestamp > seen.timestamp) latest.set(key, row);
    } else {
      latest.set(key, row);
    }
  }
  const kept = [...latest.values()];
  const userIds = sortIds(new Set(kept.map((r) => r.user)));
  const itemIds = sortIds(new Set(kept.map((r) => r.item)));
  const userIndex = new Map(userIds.map((id, i) => [id, i]));
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const n = kept.length;
  const data: InteractionDataset = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    ratings: new Float32Array(n),
    timestamps: new Float64Array(n),
    numUsers: userIds.length,
    numItems: itemIds.length,
    userIds,
    itemIds,
    summary: undefined as unknown as LoadSummary,
  };
  kept.forEach((r, i) => {
    data.users[i] = userIndex.get(r.user)!;
    data.items[i] = itemIndex.get(r.item)!;
    data.ratings[i] = r.rating;
    data.timestamps[i] = r.timestamp;
  });
  data.summary = { lines: counts.lines, kept: n, malformed: counts.malformed, duplicates, users: userIds.length, items: itemIds.length };
  return data;
}
