import { z } from 'zod';

/**
 * The catalogue: the coordinator's map from app item ids (SKUs, slugs) to model rows. Row r of every
 * rowwise item table belongs to the item whose `row` is r; rows are only ever appended, so an id keeps
 * its row for the life of the model. The catalogue version grows by one with each batch of additions.
 */

/** App item ids: 1-128 characters of [A-Za-z0-9_.:/@+-] (URL- and file-safe, no spaces or quotes). */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9_.:/@+-]{1,128}$/;
export const MAX_ITEM_ID_LENGTH = 128;
/** Most items one POST /api/catalogue/items (or one file line batch) may add. */
export const MAX_CATALOGUE_ITEMS_PER_REQUEST = 10_000;
export const MAX_TAGS_PER_ITEM = 32;

export const itemIdSchema = z.string().regex(ITEM_ID_PATTERN, `item id: 1-${MAX_ITEM_ID_LENGTH} of [A-Za-z0-9_.:/@+-]`);

const tagSchema = z.string().min(1).max(64);

/** What an app says about one item: its id, and optional metadata (tags seed a new item's row). */
export const catalogueItemSchema = z.strictObject({
  id: itemIdSchema,
  tags: z.array(tagSchema).max(MAX_TAGS_PER_ITEM).optional(),
  title: z.string().max(256).optional(),
});
export type CatalogueItem = z.infer<typeof catalogueItemSchema>;

/** An item as the catalogue serves it: with its model row and the catalogue version that added it. */
export const catalogueEntrySchema = catalogueItemSchema.extend({
  row: z.number().int().min(0),
  addedIn: z.number().int().min(0),
});
export type CatalogueEntry = z.infer<typeof catalogueEntrySchema>;

function refuseDuplicates(items: readonly { id: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const { id } of items) {
    if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate item id ${id}` });
    seen.add(id);
  }
}

/** A whole catalogue (an initial one, a file): items in row order, ids distinct, no size limit. */
export const catalogueListSchema = z.array(catalogueItemSchema).superRefine(refuseDuplicates);

/** Body of POST /api/catalogue/items (and of a catalogue file): 1..10 000 new items, ids distinct. */
export const catalogueAddRequestSchema = z.strictObject({
  items: z.array(catalogueItemSchema).min(1).max(MAX_CATALOGUE_ITEMS_PER_REQUEST).superRefine(refuseDuplicates),
});
export type CatalogueAddRequest = z.infer<typeof catalogueAddRequestSchema>;

/** The answer to a successful addition: the rows given, and the versions now current. */
export const catalogueAddResultSchema = z.object({
  catalogueVersion: z.number().int().min(0),
  modelVersion: z.number().int().min(0),
  numItems: z.number().int().min(0),
  added: z.array(z.object({ id: itemIdSchema, row: z.number().int().min(0) })),
});
export type CatalogueAddResult = z.infer<typeof catalogueAddResultSchema>;

/** `catalogue:get` payload: nothing for the whole catalogue, or the version the client holds. */
export const catalogueGetSchema = z.union([z.undefined(), z.strictObject({ since: z.number().int().min(0).optional() })]);
export type CatalogueGet = z.infer<typeof catalogueGetSchema>;

/**
 * The catalogue as served (REST and `catalogue:get`): every entry, or with `since` only those added
 * after that version (`complete: false`). `popularity` is per row (length numItems): the row weights
 * (examples that touched the row, sampled negatives included) summed over committed rounds, as of
 * `popularityModelVersion`.
 */
export const catalogueSnapshotSchema = z
  .object({
    catalogueVersion: z.number().int().min(0),
    numItems: z.number().int().min(0),
    since: z.number().int().min(0).nullable(),
    items: z.array(catalogueEntrySchema),
    popularity: z.array(z.number().finite().min(0)),
    popularityModelVersion: z.number().int().min(0),
  })
  .superRefine((s, ctx) => {
    if (s.popularity.length !== s.numItems) ctx.addIssue({ code: 'custom', message: 'popularity must have one value per row' });
    for (const e of s.items) if (e.row >= s.numItems) ctx.addIssue({ code: 'custom', message: `item ${e.id} has row ${e.row} >= numItems` });
    refuseDuplicates(s.items, ctx);
  });
export type CatalogueSnapshot = z.infer<typeof catalogueSnapshotSchema>;
