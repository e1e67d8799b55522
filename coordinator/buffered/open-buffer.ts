import { mergeAggregateSums, type AggregateSums, type WeightManifest } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { FitCollection } from '../fit-collector.js';
import { weightedMetricMean } from '../strategy/fedavg-math.js';
import { RoundInput } from '../strategy/round-input.js';
import type { UpdatePolicy } from '../strategy/update-policy.js';

/** One accepted update's bookkeeping (its delta is already in the round input). */
export interface BufferedContribution {
  clientId: string;
  /** The task's round id and task id, as the device's verdict named them. */
  roundId: number;
  taskId: string;
  staleness: number;
  numExamples: number;
  metrics: Record<string, number>;
}

/**
 * The updates accepted since the last commit: the same RoundInput a sync round streams into (norm
 * bound, weight cap, sums, and each update for a buffering strategy), so every strategy aggregates a
 * buffer exactly as it aggregates a round. It lives in memory only: see the README on durability.
 */
export class OpenBuffer {
  readonly input: RoundInput;
  readonly contributions: BufferedContribution[] = [];
  readonly failures: Failure[] = [];
  readonly startedAt = Date.now();
  /**
   * With an update pool: the applies posted to its workers for this buffer, each settling once its bounds'
   * effects are tallied (or it failed). The buffer is collected only after all have settled.
   */
  readonly pooled: Array<Promise<void>> = [];
  /** Task ids whose pooled apply failed: not in the sums, and their failure is recorded with their verdict. */
  readonly withdrawn = new Set<string>();

  constructor(
    readonly roundId: number,
    readonly manifest: WeightManifest,
    policy: UpdatePolicy,
    buffering: boolean,
  ) {
    this.input = new RoundInput(manifest, policy, buffering);
  }

  get size(): number {
    return this.contributions.length;
  }

  /**
   * The buffer as a round's collection, for RoundEngine.settleRound. With an update pool, `pooled` is what
   * UpdatePool.cut handed over for this buffer: its sums join the ones summed here, and its lost task ids
   * (accepted updates that died with a crashed worker) become failures. Withdrawn ones only leave the accepted.
   */
  collection(pooled?: { sums: AggregateSums; lost: ReadonlySet<string> }): FitCollection {
    const { sums, updates, clipped, weightCapped } = this.input.finish();
    const lost = pooled?.lost ?? new Set<string>();
    if (pooled) mergeAggregateSums(sums, pooled.sums);
    const kept = this.contributions.filter((c) => !lost.has(c.taskId) && !this.withdrawn.has(c.taskId));
    const failures = [...this.failures];
    for (const c of this.contributions) {
      if (!lost.has(c.taskId) || this.withdrawn.has(c.taskId)) continue;
      failures.push({
        clientId: c.clientId,
        taskId: c.taskId,
        phase: 'fit',
        code: 'UPDATE_WORKER_FAILED',
        message: 'update worker crashed after accepting this update',
      });
    }
    return {
      sums,
      ...(updates ? { updates } : {}),
      clipped,
      weightCapped,
      accepted: kept.map((c) => c.clientId),
      failures,
      metrics: weightedMetricMean(kept),
    };
  }
}
