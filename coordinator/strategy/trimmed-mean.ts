import type { Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import { BufferingStrategy } from './buffering-strategy.js';
import type { FedAvgOptions } from './fedavg.js';
import { applyStep } from './fedavg-math.js';
import type { ClientUpdate } from './round-input.js';
import { coordinateWise, trimmedMean } from './robust-math.js';

export interface TrimmedMeanOptions extends FedAvgOptions {
  /** Fraction of the values dropped at each end, per element (β in Yin et al. 2018). */
  trim?: number;
}

/** Coordinate-wise trimmed mean (Yin et al. 2018): per element, drop the β·k smallest and largest deltas and average the rest. */
export class TrimmedMean extends BufferingStrategy {
  override readonly name: string = 'trimmed-mean';
  private readonly trim: number;

  constructor(options: TrimmedMeanOptions = {}) {
    super(options);
    this.trim = options.trim ?? 0.2;
    if (!(this.trim >= 0 && this.trim < 0.5)) throw new RangeError(`trim must be in [0, 0.5), got ${this.trim}`);
  }

  aggregateUpdates(_roundId: number, global: Weights, updates: readonly ClientUpdate[], _failures: readonly Failure[]): Weights {
    return applyStep(global, coordinateWise(global.manifest, updates, trimmedMean(this.trim)), this.serverLearningRate);
  }
}
