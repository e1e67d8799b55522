import { createCoordinator } from '@fedrec/coordinator';
import type { Coordinator, CoordinatorOptions } from '@fedrec/coordinator';
import { createClusterNode } from '@fedrec/coordinator/cluster/cluster-node.js';
import type { ClusterNode, ClusterNodeOptions } from '@fedrec/coordinator/cluster/cluster-node.js';
import { startRedisServer } from '../../scripts/redis-server.js';
import type { RedisServer } from '../../scripts/redis-server.js';
import { testOptions } from '../coordinator/helpers.js';

/** Sums that equal the single-node ones need the same per-update treatment everywhere: no adaptive bounds. */
export const NO_BOUNDS = { normBound: 'off', weightCap: 'off', rowNormBound: 'off' } as const;

export interface RunningNode {
  coordinator: Coordinator;
  node: ClusterNode;
  url: string;
}

const running: RunningNode[] = [];

/** An in-process coordinator node of a cluster on `redisUrl`, sharing `checkpointDir`; stopped by stopNodes. */
export async function startNode(
  redisUrl: string,
  checkpointDir: string,
  overrides: Partial<CoordinatorOptions> = {},
  cluster: Partial<ClusterNodeOptions> = {},
): Promise<RunningNode> {
  const node = await createClusterNode({ redisUrl, leaseTtlMs: 1_500, leasePollMs: 100, heartbeatMs: 200, registryRefreshMs: 100, ...cluster });
  const coordinator = createCoordinator(testOptions({ checkpointDir, updatePolicy: NO_BOUNDS, ...overrides, cluster: node }));
  const { url } = await coordinator.start();
  const r = { coordinator, node, url };
  running.push(r);
  return r;
}

export async function stopNodes(): Promise<void> {
  while (running.length) await running.pop()!.coordinator.stop();
}

/**
 * The suite's real redis-server (Debian's package): started before its tests, stopped after them, and the
 * nodes each test started are stopped after that test. Call at the top of a describe; read `url` in tests.
 */
export function useRedisServer(): { readonly url: string } {
  let redis: RedisServer | undefined;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());
  afterEach(stopNodes);
  return {
    get url(): string {
      if (!redis) throw new Error('redis-server is not running: useRedisServer() must be called inside a describe');
      return redis.url;
    },
  };
}
