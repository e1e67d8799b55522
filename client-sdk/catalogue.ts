import { ITEM_ID_PATTERN, type CatalogueSnapshot } from '@fedrec/protocol';
import type { BehaviourStore, StateValue } from './store/behaviour-store.js';

/** One catalogue item as the device knows it. */
export interface CatalogueItemInfo {
  id: string;
  row: number;
  tags?: string[];
  title?: string;
}

/**
 * App item ids <-> model rows, as the device sees them. Compatibility rule: an id is always a
 * string; a numeric id n (from older code, simulations) means the id "n". Without a coordinator
 * catalogue, ids "0".."n-1" name rows 0..n-1 (NUMERIC_CATALOGUE).
 */
export interface ItemCatalogue {
  /** The coordinator's catalogue version this copy is at; undefined for the numeric default. */
  readonly version: number | undefined;
  /** The row of an app id, or undefined when the catalogue does not know it (yet), or it is beyond `numItems`. */
  rowOf(id: string | number, numItems: number): number | undefined;
  /** The app id of a row, or undefined when this copy does not reach that row yet. */
  idOf(row: number): string | undefined;
  /** Per-row popularity (summed row weights of committed rounds), when the coordinator sent one. */
  popularity(): Float32Array | undefined;
}

/** The canonical decimal form of a whole number >= 0 ("7", not "07"). */
const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

/** The default catalogue: ids "0".."numItems-1" are rows 0..numItems-1. */
export const NUMERIC_CATALOGUE: ItemCatalogue = {
  version: undefined,
  rowOf(id, numItems) {
    const s = String(id);
    if (!DECIMAL.test(s)) return undefined;
    const row = Number(s);
    return row < numItems ? row : undefined;
  },
  idOf: (row) => String(row),
  popularity: () => undefined,
};

/** True for a valid app item id: a string of 1-128 of [A-Za-z0-9_.:/@+-], or a whole number >= 0. */
export function isItemId(id: unknown): id is string | number {
  return (typeof id === 'string' && ITEM_ID_PATTERN.test(id)) || (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0);
}

export const CATALOGUE_KEY = 'fedrec:catalogue';

/**
 * The device's copy of the coordinator's catalogue: fetched on welcome and when an announcement names
 * a newer version (only the additions travel), persisted in the behaviour store so it works offline.
 */
export class ClientCatalogue implements ItemCatalogue {
  private items: CatalogueItemInfo[] = [];
  private rows = new Map<string, number>();
  private pop: Float32Array | undefined;
  private current: number | undefined;
  private popularityAt: number | undefined;

  get version(): number | undefined {
    return this.current;
  }

  /** The model version the popularity was summed up to. */
  get popularityModelVersion(): number | undefined {
    return this.popularityAt;
  }

  get size(): number {
    return this.items.length;
  }

  rowOf(id: string | number, numItems: number): number | undefined {
    const row = this.rows.get(String(id));
    return row !== undefined && row < numItems ? row : undefined;
  }

  idOf(row: number): string | undefined {
    return this.items[row]?.id;
  }

  item(row: number): CatalogueItemInfo | undefined {
    const it = this.items[row];
    return it && { ...it };
  }

  popularity(): Float32Array | undefined {
    return this.pop;
  }

  /**
   * Applies a validated snapshot: a full one replaces the copy; additions (`since` = this copy's
   * version) are appended. Returns false (nothing changes) for additions that do not follow on.
   */
  apply(s: CatalogueSnapshot): boolean {
    const full = s.since === null;
    if (!full && s.since !== this.current) return false;
    const items = full ? [] : [...this.items];
    for (const e of s.items) {
      if (items[e.row] !== undefined && items[e.row]!.id !== e.id) return false;
      items[e.row] = { id: e.id, row: e.row, ...(e.tags ? { tags: [...e.tags] } : {}), ...(e.title !== undefined ? { title: e.title } : {}) };
    }
    if (items.length !== s.numItems || items.some((it) => it === undefined)) return false;
    this.items = items;
    this.rows = new Map(items.map((it) => [it.id, it.row]));
    this.pop = Float32Array.from(s.popularity);
    this.current = s.catalogueVersion;
    this.popularityAt = s.popularityModelVersion;
    return true;
  }

  async save(store: BehaviourStore): Promise<void> {
    if (this.current === undefined) return;
    const items: StateValue[] = this.items.map((it) => ({
      id: it.id,
      ...(it.tags ? { tags: it.tags } : {}),
      ...(it.title !== undefined ? { title: it.title } : {}),
    }));
    await store.set(CATALOGUE_KEY, {
      version: this.current,
      popularityModelVersion: this.popularityAt ?? 0,
      items,
      popularity: this.pop ?? new Float32Array(0),
    });
  }

  /** Restores the persisted copy; a damaged one is ignored (the next fetch brings it back). */
  async load(store: BehaviourStore): Promise<boolean> {
    const raw = await store.get(CATALOGUE_KEY);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Float32Array) return false;
    const { version, popularityModelVersion, items, popularity } = raw;
    if (typeof version !== 'number' || !Array.isArray(items) || !(popularity instanceof Float32Array)) return false;
    const entries: CatalogueSnapshot['items'] = [];
    for (const [row, it] of items.entries()) {
      if (it === null || typeof it !== 'object' || Array.isArray(it) || it instanceof Float32Array || typeof it['id'] !== 'string') return false;
      const tags = Array.isArray(it['tags']) ? it['tags'].filter((t): t is string => typeof t === 'string') : undefined;
      const title = typeof it['title'] === 'string' ? it['title'] : undefined;
      entries.push({ id: it['id'], row, addedIn: 0, ...(tags ? { tags } : {}), ...(title !== undefined ? { title } : {}) });
    }
    if (popularity.length !== entries.length) return false;
    return this.apply({
      catalogueVersion: version,
      numItems: entries.length,
      since: null,
      items: entries,
      popularity: Array.from(popularity),
      popularityModelVersion: typeof popularityModelVersion === 'number' ? popularityModelVersion : 0,
    });
  }
}
