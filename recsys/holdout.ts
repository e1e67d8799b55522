import type { InteractionDataset } from './data/types.js';
import type { HoldoutMode } from './split.js';

/** True when most users' rows appear in ascending source item id: a file sorted by item. */
function sortedByItem(data: InteractionDataset): boolean {
  const numeric = data.itemIds.every((id) => /^-?\d+(\.\d+)?$/.test(id));
  const key = (item: number) => (numeric ? Number(data.itemIds[item]) : item);
  const last = new Map<number, number>();
  let ascending = 0;
  let steps = 0;
  for (let r = 0; r < data.users.length; r++) {
    const u = data.users[r]!;
    const k = key(data.items[r]!);
    const prev = last.get(u);
    if (prev !== undefined) {
      steps++;
      if (k >= prev) ascending++;
    }
    last.set(u, k);
  }
  return steps > 0 && ascending / steps > 0.95;
}

/**
 * One line for the data summary: which interaction each user holds out and why. On a file without
 * timestamps "latest" is the last line; on a file sorted by item id that is the user's highest item
 * id (often the rarest or newest item), which silently changes what HR@10 measures.
 */
export function describeHoldout(data: InteractionDataset, mode: HoldoutMode, validation: boolean): string {
  const val = validation ? '; the one before it (same rule) is the validation item that picks the best round/epoch; both are out of training' : '';
  if (mode === 'random') return `holdout random: one interaction per user chosen with the seed is the test item${val}`;
  const lineOrder = data.timestampSource === 'line-order';
  const sorted = (mode === 'last-line' || lineOrder) && sortedByItem(data);
  const warning = sorted
    ? ' WARNING: rows are sorted by item id within users, so the last line is the highest item id (often the rarest item): the metric then measures ranking of rare items; consider --holdout random'
    : '';
  if (mode === 'last-line') return `holdout last-line: each user's last line in the file is the test item${val}.${warning}`;
  if (lineOrder) return `holdout latest: the file has no timestamps, so each user's LAST LINE in the file is the test item${val}.${warning}`;
  return `holdout latest: each user's latest interaction by timestamp is the test item (He et al. 2017)${val}`;
}
