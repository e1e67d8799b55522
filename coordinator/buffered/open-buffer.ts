import type { WeightManifest } from '@fedrec/protocol';
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

  /** The buffer as a round's collection, for RoundEngine.settleRound. */
  collection(): FitCollection {
    const { sums, updates, clipped, weightCapped } = this.input.finish();
    return {
      sums,
      ...(updates ? { updates } : {}),
      clipped,
      weightCapped,
      accepted: this.contributions.map((c) => c.clientId),
      failures: this.failures,
      metrics: weightedMetricMean(this.contributions),
    };
  }
}
