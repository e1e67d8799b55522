import type { Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import { BufferingStrategy } from './buffering-strategy.js';
import type { FedAvgOptions } from './fedavg.js';
import { fedAvg } from './fedavg-math.js';
import type { ClientUpdate } from './round-input.js';
import { krumSelect } from './robust-math.js';
import { UpdateAccumulator } from './update-accumulator.js';

export interface KrumOptions extends FedAvgOptions {
  /** The share of updates assumed hostile (f = floor(fraction · n)). */
  byzantineFraction?: number;
  /** How many updates Multi-Krum keeps and averages: 'auto' = n − f; 1 = plain Krum. */
  select?: number | 'auto';
}

/**
 * (Multi-)Krum (Blanchard et al. 2017; El Mhamdi et al. 2018): keeps the updates closest to their
 * n − f − 2 nearest neighbours and FedAvg-averages those (item rows by their row weights). Pairwise
 * distances cost O(n² × model) time per round on top of the buffer.
 */
export class Krum extends BufferingStrategy {
  override readonly name: string = 'krum';
  private readonly fraction: number;
  private readonly select: number | 'auto';

  constructor(options: KrumOptions = {}) {
    super(options);
    this.fraction = options.byzantineFraction ?? 0.2;
    this.select = options.select ?? 'auto';
    if (!(this.fraction >= 0 && this.fraction < 0.5)) throw new RangeError(`byzantineFraction must be in [0, 0.5), got ${this.fraction}`);
    if (this.select !== 'auto' && !(Number.isInteger(this.select) && this.select >= 1)) throw new RangeError(`select must be a positive integer or 'auto'`);
  }

  aggregateUpdates(_roundId: number, global: Weights, updates: readonly ClientUpdate[], _failures: readonly Failure[]): Weights {
    const n = updates.length;
    const f = Math.floor(this.fraction * n);
    const chosen = krumSelect(updates, f, this.select === 'auto' ? n - f : this.select);
    const acc = new UpdateAccumulator(global.manifest);
    for (const i of chosen) acc.add(updates[i]!.numExamples, updates[i]!.delta, updates[i]!.rowWeights);
    return fedAvg(global, acc.sums, this.serverLearningRate);
  }
}
