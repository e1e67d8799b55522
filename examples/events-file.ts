import { readFile } from 'node:fs/promises';
import { BEHAVIOUR_KINDS, type BehaviourInput } from '@fedrec/client-sdk';

/**
 * Reads a device's events from a CSV file, one a line: `itemId,kind[,value[,timestamp]]` (kind: view,
 * click, purchase or rating; timestamp in epoch ms; a header line and blank lines are skipped).
 * A bad line is an error naming the file and the line, so nothing half-loads.
 */
export async function readEventsFile(file: string): Promise<BehaviourInput[]> {
  const text = await readFile(file, 'utf8');
  const out: BehaviourInput[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || (i === 0 && /^item/i.test(line))) continue;
    const [item = '', kind = '', value, timestamp] = line.split(/[,\t;]/).map((s) => s.trim());
    if (!(BEHAVIOUR_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`${file} line ${i + 1}: kind "${kind}" is not one of ${BEHAVIOUR_KINDS.join(', ')} (expected itemId,kind[,value[,timestamp]])`);
    }
    const itemId = /^\d+$/.test(item) ? Number(item) : item;
    if (itemId === '') throw new Error(`${file} line ${i + 1}: no item id`);
    out.push({
      itemId,
      kind: kind as BehaviourInput['kind'],
      ...(value ? { value: Number(value) } : {}),
      ...(timestamp ? { timestamp: Number(timestamp) } : {}),
    });
  }
  return out;
}
