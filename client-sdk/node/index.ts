// Node entry of the client SDK: everything shared, plus Node backends (tfjs-node → wasm → cpu) and the file store.
import './backend-node.js';

export * from '../index.js';
export { nodeBackendCandidates, wasmDirectory } from './backend-node.js';
export { FileStore, openFileStore } from './file-store.js';
export { createNodeClient, type NodeClientOptions } from './create-node-client.js';
