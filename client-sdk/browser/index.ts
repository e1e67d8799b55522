// The browser entry of the client SDK: the shared API plus IndexedDB storage and browser defaults.
// tfjs's union package registers the WebGL and cpu backends; backend.ts registers wasm.
export * from '../index.js';
export { IndexedDbStore, openIndexedDbStore, type IndexedDbStoreOptions } from './indexeddb-store.js';
export { createBrowserClient, defaultWasmPaths, type BrowserClientOptions } from './create-browser-client.js';
export { privateTensorStore, type Float32KeyValue } from './private-store.js';
