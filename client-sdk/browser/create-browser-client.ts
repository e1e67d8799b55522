import { FederatedClient, type FederatedClientOptions } from '../federated-client.js';
import type { BehaviourStore } from '../store/behaviour-store.js';
import { openIndexedDbStore } from './indexeddb-store.js';

export interface BrowserClientOptions extends Omit<FederatedClientOptions, 'store'> {
  /** Default: an IndexedDB store named `storeName`. */
  store?: BehaviourStore;
  /** IndexedDB database name for the default store (default "fedrec"). */
  storeName?: string;
}

/**
 * Where the wasm backend's .wasm files are: next to the bundle (scripts/build-browser.ts copies
 * them into wasm/), so they come from the app's own origin, never a CDN.
 */
export function defaultWasmPaths(): string | undefined {
  try {
    return new URL('./wasm/', import.meta.url).href;
  } catch {
    return undefined; // not an ES module URL (e.g. run from source under a test runner)
  }
}

/** A FederatedClient with the browser defaults: IndexedDB store, locally served wasm files. */
export async function createBrowserClient(options: BrowserClientOptions): Promise<FederatedClient> {
  const { storeName, store, ...rest } = options;
  const wasmPaths = rest.wasmPaths ?? defaultWasmPaths();
  return new FederatedClient({
    ...rest,
    store: store ?? (await openIndexedDbStore(storeName !== undefined ? { name: storeName } : {})),
    ...(wasmPaths !== undefined ? { wasmPaths } : {}),
  });
}
