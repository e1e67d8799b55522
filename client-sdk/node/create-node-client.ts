import { FederatedClient, type FederatedClientOptions } from '../federated-client.js';
import { openFileStore } from './file-store.js';
import './backend-node.js';

export interface NodeClientOptions extends FederatedClientOptions {
  /** Keep behaviour and private state in this directory (a FileStore) unless `store` is given. */
  storeDir?: string;
}

/** A FederatedClient with Node defaults: Node backends registered, a file store when storeDir is set. */
export async function createNodeClient(options: NodeClientOptions): Promise<FederatedClient> {
  const { storeDir, ...rest } = options;
  if (rest.store === undefined && storeDir !== undefined) rest.store = await openFileStore(storeDir);
  return new FederatedClient(rest);
}
