import { BEHAVIOUR_KINDS, type BehaviourInput } from '@fedrec/client-sdk';

/**
 * A device's events as CSV text, one a line: `itemId,kind[,value[,timestamp]]` (kind: view, click,
 * purchase or rating; timestamp in epoch ms; a header line and blank lines are skipped). A bad line is
 * an error naming the source and the line, so nothing half-loads. Universal: the node app reads a
 * file with it, the own-data page a file the user picks.
 */
export function parseEventsCsv(text: string, source: string): BehaviourInput[] {
  const out: BehaviourInput[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || (i === 0 && /^item/i.test(line))) continue;
    const [item = '', kind = '', value, timestamp] = line.split(/[,\t;]/).map((s) => s.trim());
    if (!(BEHAVIOUR_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`${source} line ${i + 1}: kind "${kind}" is not one of ${BEHAVIOUR_KINDS.join(', ')} (expected itemId,kind[,value[,timestamp]])`);
    }
    if (item === '') throw new Error(`${source} line ${i + 1}: no item id`);
    const num = (field: string, name: string): number => {
      const n = Number(field);
      if (!Number.isFinite(n)) throw new Error(`${source} line ${i + 1}: ${name} "${field}" is not a number`);
      return n;
    };
    out.push({
      itemId: /^\d+$/.test(item) ? Number(item) : item,
      kind: kind as BehaviourInput['kind'],
      ...(value ? { value: num(value, 'value') } : {}),
      ...(timestamp ? { timestamp: num(timestamp, 'timestamp') } : {}),
    });
  }
  return out;
}
