import { FederatedClient, type FederatedClientOptions } from '../federated-client.js';
import { openFileStore } from './file-store.js';
import { WorkerMaskExpander } from './worker-mask-expander.js';
import './backend-node.js';

export interface NodeClientOptions extends FederatedClientOptions {
  /** Keep behaviour and private state in this directory (a FileStore) unless `store` is given. */
  storeDir?: string;
  /**
   * Secure aggregation's mask work on a worker thread, so it overlaps training (default true; started on the first
   * masked round). `expandMasks`, when given, wins.
   */
  maskWorker?: boolean;
}

/** A FederatedClient with Node defaults: Node backends registered, a file store when storeDir is set, masks on a worker. */
export async function createNodeClient(options: NodeClientOptions): Promise<FederatedClient> {
  const { storeDir, maskWorker = true, ...rest } = options;
  if (rest.store === undefined && storeDir !== undefined) rest.store = await openFileStore(storeDir);
  if (rest.expandMasks === undefined && maskWorker) rest.expandMasks = new WorkerMaskExpander();
  return new FederatedClient(rest);
}
