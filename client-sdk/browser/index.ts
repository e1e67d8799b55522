// The browser entry of the client SDK: the shared API plus IndexedDB storage and browser defaults.
// tfjs's union package registers the WebGL and cpu backends; backend.ts registers wasm, and
// backend-browser.ts points it at the .wasm files served next to this bundle.
export * from '../index.js';
export { bundledBrowserCandidates } from './backend-browser.js';
export { IndexedDbStore, openIndexedDbStore, type IndexedDbStoreOptions } from './indexeddb-store.js';
export { createBrowserClient, defaultWasmPaths, type BrowserClientOptions } from './create-browser-client.js';
export { WebWorkerMaskExpander, defaultMaskWorkerUrl, MASK_WORKER_FILE } from './web-worker-mask-expander.js';
export { privateTensorStore, type Float32KeyValue } from './private-store.js';
