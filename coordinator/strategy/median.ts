import type { Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import { BufferingStrategy } from './buffering-strategy.js';
import type { FedAvgOptions } from './fedavg.js';
import { applyStep } from './fedavg-math.js';
import type { ClientUpdate } from './round-input.js';
import { coordinateWise, median } from './robust-math.js';

/**
 * Coordinate-wise median (Yin et al. 2018): each element moves by the median of the updates' deltas
 * (a row of an item table over the updates that touched it). Fewer than half the updates cannot drag
 * an element beyond the range of the honest ones, whatever their size. Unweighted: example counts are
 * what a client claims, so they get no vote here.
 */
export class CoordinateMedian extends BufferingStrategy {
  override readonly name: string = 'median';

  constructor(options: FedAvgOptions = {}) {
    super(options);
  }

  aggregateUpdates(_roundId: number, global: Weights, updates: readonly ClientUpdate[], _failures: readonly Failure[]): Weights {
    return applyStep(global, coordinateWise(global.manifest, updates, median), this.serverLearningRate);
  }
}
