import { randomBytes } from 'node:crypto';
import { emptySums, mergeSums } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { EvaluationOpener } from '../evaluation-opening.js';
import type { FitAssignment, FitCollection, FitCollector, FitRoundContext } from '../fit-collector.js';
import { remoteOf } from './remote-client.js';
import type { FitOrder, PartialCollection } from './partial-codec.js';
import type { ObservedNorms } from './recording-policy.js';

export interface ClusterFitDeps {
  nodeId: string;
  /** Sends a fit order to the node that holds those clients. */
  sendOrder(nodeId: string, order: FitOrder): Promise<void>;
  /** Resolves with that order's partial, or undefined once `until` (epoch ms) passes or the signal aborts. */
  awaitPartial(orderId: string, until: number, signal: AbortSignal): Promise<PartialCollection | undefined>;
  /** How long after the round deadline the leader still waits for a node's partial (its collect + Redis hop). */
  graceMs: number;
  /** Adds another node's norm-bound observations to the leader's update policy (checkpointed with the version). */
  recordObserved(observed: ObservedNorms): void;
}

/**
 * The leader's collector on a cluster: its own clients go to the configured collector (the plain one:
 * open, validate, bound, sum); each other node gets one fit order with its clients' tasks, collects
 * them the same way and sends back only its partial sums (partial-codec.ts). The sums are additive, so
 * merging them gives the single-node sums (to float64 rounding of the addition order). A node that
 * never answers (killed) costs exactly its clients' updates: they become DISCONNECTED failures.
 */
export class ClusterFitCollector implements FitCollector {
  readonly name: string;

  constructor(
    private readonly inner: FitCollector,
    private readonly deps: ClusterFitDeps,
  ) {
    this.name = `cluster(${inner.name})`;
  }

  async collect(ctx: FitRoundContext): Promise<FitCollection> {
    const local: FitAssignment[] = [];
    const byNode = new Map<string, FitAssignment[]>();
    for (const a of ctx.assignments) {
      const remote = remoteOf(a.socket);
      if (!remote) local.push(a);
      else byNode.set(remote.nodeId, [...(byNode.get(remote.nodeId) ?? []), a]);
    }
    const remoteParts = [...byNode].map(([nodeId, assignments]) => this.collectRemote(ctx, nodeId, assignments));
    const [mine, ...theirs] = await Promise.all([this.inner.collect({ ...ctx, assignments: local }), ...remoteParts]);
    return mergeCollections(ctx, mine!, theirs);
  }

  /** The leader opens evaluate results where its own collector would (its update workers). */
  evaluationOpener(secretKey: Uint8Array): EvaluationOpener | undefined {
    return this.inner.evaluationOpener?.(secretKey);
  }

  private async collectRemote(ctx: FitRoundContext, nodeId: string, assignments: FitAssignment[]): Promise<FitCollection> {
    const orderId = `${this.deps.nodeId}-${ctx.roundId}-${randomBytes(6).toString('hex')}`;
    const order: FitOrder = {
      orderId,
      leader: this.deps.nodeId,
      roundId: ctx.roundId,
      modelVersion: ctx.modelVersion,
      deadline: ctx.deadline,
      limits: ctx.limits,
      assignments: assignments.map((a) => ({ clientId: a.clientId, taskId: a.taskId, config: a.config })),
    };
    const lost = (why: string): FitCollection => ({
      sums: emptySums(ctx.global.manifest),
      accepted: [],
      failures: assignments.map((a): Failure => ({
        clientId: a.clientId,
        taskId: a.taskId,
        phase: 'fit',
        code: 'DISCONNECTED',
        message: `node ${nodeId}: ${why}`,
      })),
      metrics: {},
    });
    const waiting = this.deps.awaitPartial(orderId, ctx.deadline + this.deps.graceMs, ctx.signal);
    try {
      await this.deps.sendOrder(nodeId, order);
    } catch (err) {
      return lost(`fit order not delivered (${err instanceof Error ? err.message : String(err)})`);
    }
    const partial = await waiting;
    if (!partial) return lost('no partial sums by the deadline (node lost; its in-flight updates are dropped)');
    const asked = new Set(assignments.map((a) => a.clientId));
    // Another node answers only for the clients it was asked about, in the round's layout.
    const c = partial.collection;
    const strays = [...c.accepted, ...c.failures.map((f) => f.clientId)].filter((id) => !asked.has(id));
    if (strays.length > 0) return lost(`partial names clients it was not asked about (${strays.slice(0, 3).join(', ')})`);
    const expected = emptySums(ctx.global.manifest);
    if (c.sums.weightedDeltaSum.length !== expected.weightedDeltaSum.length || c.sums.rowWeightSums.length !== expected.rowWeightSums.length) {
      return lost('partial sums have another layout');
    }
    const observed = partial.observed;
    if (observed) {
      // At most one norm and weight per update it was asked for; row norms at most one per item row each.
      const rows = expected.rowWeightSums.length;
      if (
        observed.norms.length !== observed.weights.length ||
        observed.norms.length > assignments.length ||
        observed.rowNorms.length > rows * assignments.length
      ) {
        return lost('partial carries more norm observations than updates');
      }
      this.deps.recordObserved(observed);
    }
    return c;
  }
}

/** Adds the partial collections into one (sums exactly; metrics as an example-weighted mean of the parts). */
export function mergeCollections(ctx: Pick<FitRoundContext, 'global'>, first: FitCollection, rest: readonly FitCollection[]): FitCollection {
  const parts = [first, ...rest];
  const sums = emptySums(ctx.global.manifest);
  const metricTotals = new Map<string, { total: number; weight: number }>();
  for (const part of parts) {
    if (part.sums.weightedDeltaSum.length > 0) mergeSums(sums, part.sums);
    const w = part.sums.weightSum;
    if (!(w > 0)) continue;
    for (const [name, value] of Object.entries(part.metrics)) {
      const t = metricTotals.get(name) ?? { total: 0, weight: 0 };
      t.total += w * value;
      t.weight += w;
      metricTotals.set(name, t);
    }
  }
  const abandonReason = parts.find((p) => p.abandonReason !== undefined)?.abandonReason;
  return {
    sums,
    accepted: parts.flatMap((p) => p.accepted),
    failures: parts.flatMap((p) => p.failures),
    metrics: Object.fromEntries([...metricTotals].map(([k, t]) => [k, t.total / t.weight])),
    clipped: parts.reduce((n, p) => n + (p.clipped ?? 0), 0),
    weightCapped: parts.reduce((n, p) => n + (p.weightCapped ?? 0), 0),
    ...(abandonReason !== undefined ? { abandonReason } : {}),
  };
}
