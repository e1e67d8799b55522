import { readFile } from 'node:fs/promises';
import type { BehaviourInput } from '@fedrec/client-sdk';
import { parseEventsCsv } from './events-csv.js';

/** Reads a device's events from a CSV file (format: events-csv.ts). */
export async function readEventsFile(file: string): Promise<BehaviourInput[]> {
  return parseEventsCsv(await readFile(file, 'utf8'), file);
}
