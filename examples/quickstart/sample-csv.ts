import { writeFile } from 'node:fs/promises';
import { generateSyntheticInteractions, type SyntheticOptions } from '@fedrec/recsys/data/synthetic.js';

/**
 * Writes a CSV shaped like an app's event log (user,item,time: string ids, epoch seconds) from the
 * seeded synthetic generator, so the quickstart runs anywhere without MovieLens (whose licence
 * forbids copying it here).
 */
export async function writeSampleCsv(file: string, options: Partial<SyntheticOptions> = {}): Promise<number> {
  const data = generateSyntheticInteractions({ users: 60, items: 300, interactionsPerUser: 25, ...options });
  const lines = ['user,item,time'];
  for (let i = 0; i < data.users.length; i++) lines.push(`u${data.users[i]},sku-${data.items[i]},${data.timestamps[i]}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return data.users.length;
}
