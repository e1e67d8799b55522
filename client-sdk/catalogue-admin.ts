import { catalogueAddRequestSchema, catalogueAddResultSchema, type CatalogueAddResult, type CatalogueItem } from '@fedrec/protocol';
import { FederatedClientError, errorMessage, isErrorCode } from './errors.js';

export interface AddCatalogueItemsOptions {
  /** The coordinator's operator token (sent as `Authorization: Bearer`). */
  token?: string;
  /** Swap the fetch function (default: the global fetch of Node 20+ and browsers). */
  fetch?: typeof fetch;
}

/**
 * For an app's backend: adds items to a running coordinator's catalogue (POST /api/catalogue/items).
 * The coordinator grows the model between rounds and announces it; devices pick the new ids up on
 * their own. Resolves to the rows given; rejects with a FederatedClientError carrying the code
 * (INVALID_PAYLOAD, UNAUTHORIZED, DUPLICATE_ITEM, CATALOGUE_CLOSED, TOO_LARGE).
 */
export async function addCatalogueItems(url: string, items: readonly CatalogueItem[], options: AddCatalogueItemsOptions = {}): Promise<CatalogueAddResult> {
  const body = catalogueAddRequestSchema.safeParse({ items });
  if (!body.success) throw new FederatedClientError('INVALID_PAYLOAD', `invalid catalogue items: ${body.error.issues[0]?.message ?? 'invalid'}`);
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(new URL('/api/catalogue/items', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}) },
      body: JSON.stringify(body.data),
    });
  } catch (err) {
    throw new FederatedClientError('NOT_CONNECTED', `catalogue POST failed: ${errorMessage(err)}`, { cause: err });
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = isErrorCode(error?.code) ? error.code : 'INTERNAL';
    throw new FederatedClientError(code, `catalogue POST refused (${res.status}): ${String(error?.message ?? res.statusText)}`);
  }
  const result = catalogueAddResultSchema.safeParse(json);
  if (!result.success) throw new FederatedClientError('INVALID_PAYLOAD', `malformed catalogue answer: ${result.error.message}`);
  return result.data;
}
