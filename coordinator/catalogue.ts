import { z } from 'zod';
import { ProtocolError, catalogueItemSchema } from '@fedrec/protocol';
import type { CatalogueEntry, CatalogueItem, CatalogueSnapshot, RowTable, WeightManifest } from '@fedrec/protocol';
import { rowLayout } from '@fedrec/protocol';

/** The catalogue as a checkpoint keeps it (JSON in the checkpoint header, written with the model it belongs to). */
export const persistedCatalogueSchema = z.object({
  version: z.number().int().min(0),
  items: z.array(catalogueItemSchema.extend({ addedIn: z.number().int().min(0) })),
  popularity: z.array(z.number().finite().min(0)),
  popularityModelVersion: z.number().int().min(0),
});
export type PersistedCatalogue = z.infer<typeof persistedCatalogueSchema>;

/**
 * The coordinator's catalogue: app item id -> model row (the index in `entries`), optional tags and
 * titles, and a per-row popularity. Rows are only appended; the version grows with each batch.
 *
 * Popularity is what the coordinator already sees: the per-row example counts (`rowWeightSums` of the
 * item table) summed over committed rounds, sampled negatives included. It says how much training
 * touched each item across all devices, never which device touched what (under secure aggregation
 * only the sum is unmasked), and no extra data leaves a device for it.
 */
export class Catalogue {
  private readonly entries: CatalogueEntry[] = [];
  private readonly rows = new Map<string, number>();
  private popularityRows: number[] = [];
  private version = 0;
  private popularityVersion = 0;

  /** The numeric default: ids "0".."n-1" name rows 0..n-1, so numeric item ids keep working. */
  static numeric(numItems: number): Catalogue {
    const c = new Catalogue();
    for (let r = 0; r < numItems; r++) c.push({ id: String(r) }, 0);
    return c;
  }

  /** An app's initial catalogue (from --catalogue or options.catalogue): row r is items[r]. */
  static of(items: readonly CatalogueItem[]): Catalogue {
    const c = new Catalogue();
    for (const item of items) {
      if (c.rows.has(item.id)) throw new ProtocolError('DUPLICATE_ITEM', `duplicate item id ${item.id}`);
      c.push(item, 0);
    }
    return c;
  }

  static restore(p: PersistedCatalogue): Catalogue {
    const c = new Catalogue();
    for (const { addedIn, ...item } of p.items) c.push(item, addedIn);
    if (p.popularity.length !== c.size) throw new RangeError(`catalogue popularity has ${p.popularity.length} rows for ${c.size} items`);
    c.popularityRows = [...p.popularity];
    c.version = p.version;
    c.popularityVersion = p.popularityModelVersion;
    return c;
  }

  get size(): number {
    return this.entries.length;
  }

  get catalogueVersion(): number {
    return this.version;
  }

  rowOf(id: string): number | undefined {
    return this.rows.get(id);
  }

  entry(row: number): CatalogueEntry | undefined {
    return this.entries[row];
  }

  all(): readonly CatalogueEntry[] {
    return this.entries;
  }

  /** Refuses a batch that names an id the catalogue has (nothing changes). */
  checkNew(items: readonly CatalogueItem[]): void {
    const known = items.find((i) => this.rows.has(i.id));
    if (known) throw new ProtocolError('DUPLICATE_ITEM', `item id ${known.id} is already in the catalogue (row ${this.rows.get(known.id)})`);
  }

  /** Appends a batch as one new catalogue version; returns the rows given. */
  append(items: readonly CatalogueItem[]): CatalogueEntry[] {
    this.checkNew(items);
    const version = this.version + 1;
    const added = items.map((item) => this.push(item, version));
    this.version = version;
    return added;
  }

  /**
   * Adds a committed round's row weights of the item table (the first rowwise table with one row per
   * item) to the popularity, as of `modelVersion`.
   */
  addPopularity(manifest: WeightManifest, rowWeightSums: Float64Array, modelVersion: number): void {
    const table = itemTable(manifest, this.size);
    if (table && rowWeightSums.length >= table.rowWeightOffset + table.rows) {
      for (let r = 0; r < table.rows; r++) this.popularityRows[r]! += rowWeightSums[table.rowWeightOffset + r]!;
    }
    this.popularityVersion = modelVersion;
  }

  popularity(): readonly number[] {
    return this.popularityRows;
  }

  /** Everything, or only the items added after catalogue version `since`. */
  snapshot(since?: number): CatalogueSnapshot {
    const items = since === undefined ? this.entries : this.entries.filter((e) => e.addedIn > since);
    return {
      catalogueVersion: this.version,
      numItems: this.size,
      since: since ?? null,
      items: items.map((e) => ({ ...e })),
      popularity: [...this.popularityRows],
      popularityModelVersion: this.popularityVersion,
    };
  }

  toJSON(): PersistedCatalogue {
    return {
      version: this.version,
      items: this.entries.map(({ row: _row, ...rest }) => rest),
      popularity: [...this.popularityRows],
      popularityModelVersion: this.popularityVersion,
    };
  }

  private push(item: CatalogueItem, addedIn: number): CatalogueEntry {
    const entry: CatalogueEntry = { ...item, row: this.entries.length, addedIn };
    this.entries.push(entry);
    this.rows.set(item.id, entry.row);
    this.popularityRows.push(0);
    return entry;
  }
}

/** The first rowwise table with one row per catalogue item (the item embedding), if any. */
export function itemTable(manifest: WeightManifest, numItems: number): RowTable | undefined {
  return rowLayout(manifest).tables.find((t) => t.rows === numItems);
}
