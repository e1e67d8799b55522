import type { Logger } from '@fedrec/coordinator/logger.js';
import type { ClusterHooks } from '@fedrec/coordinator/cluster/cluster-hooks.js';
import { CliUsageError } from './cli-config.js';
import type { CliConfig } from './cli-config.js';

/** `--redis`: joins a cluster of coordinator nodes. The import is dynamic so a plain start never loads Redis code. */
export async function joinCluster(redisUrl: string, config: Pick<CliConfig, 'nodeId' | 'leaseTtlMs' | 'checkpointDir'>, logger: Logger): Promise<ClusterHooks> {
  if (config.checkpointDir === undefined)
    throw new CliUsageError('--redis needs --checkpoint-dir: a directory every node shares (followers load each committed version from it)');
  const { createClusterNode } = await import('@fedrec/coordinator/cluster/cluster-node.js');
  return createClusterNode({
    redisUrl,
    logger,
    ...(config.nodeId !== undefined ? { nodeId: config.nodeId } : {}),
    ...(config.leaseTtlMs !== undefined ? { leaseTtlMs: config.leaseTtlMs } : {}),
  });
}
