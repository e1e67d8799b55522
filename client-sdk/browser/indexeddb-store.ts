import { behaviourEventSchema, type BehaviourEvent } from '../store/behaviour-event.js';
import { cloneState, selectEvents, type BehaviourStore, type ListOptions, type StateValue } from '../store/behaviour-store.js';

const EVENTS = 'events';
const STATE = 'state';
const DB_VERSION = 1;

export interface IndexedDbStoreOptions {
  /** Database name; one per device profile (default "fedrec"). */
  name?: string;
  /** The IDBFactory to use (default globalThis.indexedDB; tests may inject another). */
  factory?: IDBFactory;
}

/** Wraps an IDBRequest in a promise. */
function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

/** Resolves when a transaction commits, so a write is durable before the promise settles. */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

/**
 * The browser's behaviour store: events in an auto-increment object store (append order),
 * state (client id, private embeddings as Float32Array) in a key-value store. It survives
 * page reloads; nothing in it is ever sent anywhere.
 */
export class IndexedDbStore implements BehaviourStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(options: IndexedDbStoreOptions = {}): Promise<IndexedDbStore> {
    const factory = options.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new Error('IndexedDB is not available in this environment');
    const request = factory.open(options.name ?? 'fedrec', DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(EVENTS)) db.createObjectStore(EVENTS, { autoIncrement: true });
      if (!db.objectStoreNames.contains(STATE)) db.createObjectStore(STATE);
    };
    const db = await done(request);
    return new IndexedDbStore(db);
  }

  async append(events: BehaviourEvent | readonly BehaviourEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events as BehaviourEvent];
    const parsed = list.map((e) => behaviourEventSchema.parse(e));
    const tx = this.db.transaction(EVENTS, 'readwrite');
    const store = tx.objectStore(EVENTS);
    for (const e of parsed) store.add(e);
    await committed(tx);
  }

  async list(options?: ListOptions): Promise<BehaviourEvent[]> {
    const tx = this.db.transaction(EVENTS, 'readonly');
    const all = (await done(tx.objectStore(EVENTS).getAll())) as BehaviourEvent[];
    return selectEvents(all, options);
  }

  async count(): Promise<number> {
    const tx = this.db.transaction(EVENTS, 'readonly');
    return done(tx.objectStore(EVENTS).count());
  }

  async clearEvents(): Promise<void> {
    const tx = this.db.transaction(EVENTS, 'readwrite');
    tx.objectStore(EVENTS).clear();
    await committed(tx);
  }

  async get(key: string): Promise<StateValue | undefined> {
    const tx = this.db.transaction(STATE, 'readonly');
    // Structured clone already hands out a fresh copy; cloneState keeps the contract explicit.
    const value = (await done(tx.objectStore(STATE).get(key))) as StateValue | undefined;
    return value === undefined ? undefined : cloneState(value);
  }

  async set(key: string, value: StateValue): Promise<void> {
    const tx = this.db.transaction(STATE, 'readwrite');
    tx.objectStore(STATE).put(cloneState(value), key);
    await committed(tx);
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction(STATE, 'readwrite');
    tx.objectStore(STATE).delete(key);
    await committed(tx);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

export function openIndexedDbStore(options: IndexedDbStoreOptions = {}): Promise<IndexedDbStore> {
  return IndexedDbStore.open(options);
}
