#!/usr/bin/env node
// `npm run catalogue -- add --url http://host:8080 [--token T] FILE`: adds items to a running coordinator.
import { Command } from 'commander';
import { MAX_CATALOGUE_ITEMS_PER_REQUEST, catalogueAddResultSchema } from '@fedrec/protocol';
import { readCatalogueFile } from './catalogue-file.js';

async function add(file: string, opts: { url: string; token?: string }): Promise<void> {
  const items = await readCatalogueFile(file);
  const token = opts.token ?? process.env['FEDREC_OPERATOR_TOKEN'];
  // Large files go in batches (one catalogue version and one model version each).
  for (let i = 0; i < items.length; i += MAX_CATALOGUE_ITEMS_PER_REQUEST) {
    const batch = items.slice(i, i + MAX_CATALOGUE_ITEMS_PER_REQUEST);
    const res = await fetch(new URL('/api/catalogue/items', opts.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ items: batch }),
    });
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new Error(`${res.status} ${error?.code ?? ''}: ${error?.message ?? res.statusText}`);
    }
    const result = catalogueAddResultSchema.parse(body);
    console.log(`added ${result.added.length} items: catalogue v${result.catalogueVersion}, model v${result.modelVersion}, ${result.numItems} items`);
  }
}

const program = new Command('fedrec-catalogue').description("Manage a running coordinator's catalogue.");
program
  .command('add')
  .description('add the items of a JSON or CSV file (see README: Catalogue)')
  .requiredOption('--url <url>', 'coordinator URL, e.g. http://localhost:8080')
  .option('--token <token>', 'the coordinator operator token (default: FEDREC_OPERATOR_TOKEN)')
  .argument('<file>', 'catalogue file (.json, or CSV with id,tags,title)')
  .action((file: string, opts: { url: string; token?: string }) => add(file, opts));
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`fedrec-catalogue: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
