import { FederatedClient, type FederatedClientOptions } from '../federated-client.js';
import type { BehaviourStore } from '../store/behaviour-store.js';
import { openIndexedDbStore } from './indexeddb-store.js';
import { defaultMaskWorkerUrl, WebWorkerMaskExpander } from './web-worker-mask-expander.js';

export interface BrowserClientOptions extends Omit<FederatedClientOptions, 'store'> {
  /** Default: an IndexedDB store named `storeName`. */
  store?: BehaviourStore;
  /** IndexedDB database name for the default store (default "fedrec"). */
  storeName?: string;
  /**
   * Secure aggregation's mask work in a Web Worker, so it neither freezes the page nor delays training. Default true:
   * the worker file next to this bundle (fedrec-mask-worker.js), where `Worker` exists and this code runs from an ES
   * module; a URL names the worker file elsewhere (an app that bundles the SDK itself serves it there); false keeps
   * the masks on the main thread. `expandMasks`, when given, wins.
   */
  maskWorker?: boolean | string | URL;
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

/** Where the mask worker is for `maskWorker` (undefined: masks on the main thread). */
function maskWorkerUrl(option: boolean | string | URL): string | URL | undefined {
  if (option === false || typeof Worker === 'undefined') return undefined;
  return option === true ? defaultMaskWorkerUrl() : option;
}

/** A FederatedClient with the browser defaults: IndexedDB store, locally served wasm files, masks in a Web Worker. */
export async function createBrowserClient(options: BrowserClientOptions): Promise<FederatedClient> {
  const { storeName, store, maskWorker = true, ...rest } = options;
  const wasmPaths = rest.wasmPaths ?? defaultWasmPaths();
  const workerUrl = rest.expandMasks === undefined ? maskWorkerUrl(maskWorker) : undefined;
  return new FederatedClient({
    ...rest,
    ...(workerUrl !== undefined ? { expandMasks: new WebWorkerMaskExpander(workerUrl) } : {}),
    store: store ?? (await openIndexedDbStore(storeName !== undefined ? { name: storeName } : {})),
    ...(wasmPaths !== undefined ? { wasmPaths } : {}),
  });
}
