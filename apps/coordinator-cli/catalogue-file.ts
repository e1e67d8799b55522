import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { catalogueListSchema, type CatalogueItem } from '@fedrec/protocol';

/**
 * Reads a catalogue file: JSON (`[{ "id": "sku-1", "tags": ["shoes"], "title": "..." }]` or
 * `{ "items": [...] }`) or CSV with a header naming `id` and optionally `tags` (separated by `|`) and
 * `title`. csv-parse handles quoted fields (titles with commas, quotes). Rows are in file order.
 */
export async function readCatalogueFile(path: string): Promise<CatalogueItem[]> {
  const text = await readFile(path, 'utf8');
  const raw = extname(path).toLowerCase() === '.json' ? fromJson(text) : fromCsv(text);
  const parsed = catalogueListSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`catalogue file ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function fromJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value : (value as { items?: unknown } | null)?.items;
}

function fromCsv(text: string): unknown {
  const rows = parse(text, {
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    bom: true,
  }) as Array<Record<string, string>>;
  return rows.map((row) => {
    const tags = (row['tags'] ?? '')
      .split('|')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const title = row['title'];
    return { id: row['id'], ...(tags.length ? { tags } : {}), ...(title ? { title } : {}) };
  });
}
