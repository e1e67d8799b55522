import { mergeAggregateSums, type WeightManifest } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { FitCollection } from '../fit-collector.js';
import { weightedMetricMean } from '../strategy/fedavg-math.js';
import { RoundInput } from '../strategy/round-input.js';
import type { UpdatePolicy } from '../strategy/update-policy.js';
import type { PooledSums } from '../update-pool/update-pool.js';

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
   * UpdatePool.cut handed over for this buffer: its sums join the ones summed here, its tally the clipping
   * counts, and its lost task ids (accepted updates that died with a crashed worker) become failures.
   */
  collection(pooled?: PooledSums): FitCollection {
    if (pooled) this.input.tally(pooled.tally);
    const { sums, updates, clipped, weightCapped } = this.input.finish();
    const lost = pooled?.lost ?? new Set<string>();
    if (pooled) mergeAggregateSums(sums, pooled.sums);
    const kept = this.contributions.filter((c) => !lost.has(c.taskId));
    const failures = [...this.failures];
    for (const c of this.contributions) {
      if (!lost.has(c.taskId)) continue;
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
