import { EnvelopeOpener } from '@fedrec/protocol';
import type { KeyPair } from '@fedrec/protocol';
import type { ClientRegistry } from '../client-registry.js';
import type { Failure } from '../failure.js';
import type { FitAssignment, FitCollection, FitCollector } from '../fit-collector.js';
import type { Logger } from '../logger.js';
import type { CoordinatorState } from '../state.js';
import { RoundInput } from '../strategy/round-input.js';
import { mergeCollections } from './cluster-fit-collector.js';
import { RecordingPolicy } from './recording-policy.js';
import type { FitOrder, PartialCollection } from './partial-codec.js';

export interface FitOrderDeps {
  nodeId: string;
  registry: ClientRegistry;
  state: CoordinatorState;
  keyPair: KeyPair;
  /** The collector this node runs for its own clients (the plain one). */
  collector: FitCollector;
  /** Loads the committed version `modelVersion` into the state when this node is behind. */
  catchUp(modelVersion: number): Promise<void>;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A node's side of a cluster round: takes the leader's fit order for its own clients, runs the same
 * collector the leader runs locally (so each update is opened, validated, bounded and summed on the
 * node it arrived at) and returns the partial collection for the leader to merge.
 */
export class FitOrderRunner {
  private readonly opener: EnvelopeOpener;

  constructor(private readonly deps: FitOrderDeps) {
    this.opener = new EnvelopeOpener(deps.keyPair.secretKey);
  }

  async run(order: FitOrder): Promise<PartialCollection> {
    const { state, registry, logger } = this.deps;
    if (state.modelVersion < order.modelVersion) await this.deps.catchUp(order.modelVersion);
    const failAll = (why: string): FitCollection => ({
      sums: { weightedDeltaSum: new Float64Array(0), rowWeightSums: new Float64Array(0), weightSum: 0, contributors: 0 },
      accepted: [],
      failures: order.assignments.map((a): Failure => ({ clientId: a.clientId, taskId: a.taskId, phase: 'fit', code: 'ROUND_CLOSED', message: why })),
      metrics: {},
    });
    if (state.modelVersion !== order.modelVersion) {
      logger.warn({ orderId: order.orderId, have: state.modelVersion, want: order.modelVersion }, 'fit order for a version this node cannot load');
      return { orderId: order.orderId, nodeId: this.deps.nodeId, collection: failAll(`node ${this.deps.nodeId} is at version ${state.modelVersion}`) };
    }
    const present: FitAssignment[] = [];
    const gone: Failure[] = [];
    for (const a of order.assignments) {
      const socket = registry.get(a.clientId);
      if (socket) present.push({ ...a, socket });
      else gone.push({ clientId: a.clientId, taskId: a.taskId, phase: 'fit', code: 'DISCONNECTED', message: `not connected to node ${this.deps.nodeId}` });
    }
    // The committed (leader's) history bounds these updates; what they add goes back with the partial.
    const policy = new RecordingPolicy(state.updatePolicy);
    const collection = await this.deps.collector.collect({
      roundId: order.roundId,
      modelVersion: order.modelVersion,
      global: state.global,
      modelSpec: state.modelSpec,
      deadline: order.deadline,
      assignments: present,
      keyPair: this.deps.keyPair,
      opener: this.opener,
      limits: {
        maxUpdateBytes: order.limits.maxUpdateBytes,
        maxExamplesPerUpdate: order.limits.maxExamplesPerUpdate,
        ...(order.limits.maxMetricKeys !== undefined ? { maxMetricKeys: order.limits.maxMetricKeys } : {}),
      },
      roundInput: new RoundInput(state.global.manifest, policy, false),
      signal: this.deps.signal,
      logger: logger.child({ roundId: order.roundId, orderId: order.orderId }),
    });
    const withGone = mergeCollections(state, collection, [{ ...failAll(''), failures: gone }]);
    return { orderId: order.orderId, nodeId: this.deps.nodeId, collection: withGone, observed: policy.observed };
  }
}
