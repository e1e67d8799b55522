import type { WeightManifest, Weights } from '@fedrec/protocol';
import { growFlat } from '../catalogue-growth.js';
import type { Failure } from '../failure.js';
import type { AggregateSums } from '@fedrec/protocol';
import { FedAvg } from './fedavg.js';
import type { FedAvgOptions } from './fedavg.js';
import { applyStep, averageDelta } from './fedavg-math.js';
import type { StrategyState } from './strategy.js';
import { fromTensors, toTensors } from './strategy-state.js';

export interface FedAvgMOptions extends FedAvgOptions {
  /** Server momentum β: velocity = β·velocity + averaged delta. */
  momentum?: number;
  /** The server learning rate's multiplier by round id (lr-schedule.ts); default constant 1. */
  serverLrFactor?: (roundId: number) => number;
}

/** FedAvg with server momentum (Hsu et al. 2019). The velocity is checkpointed (saveState) and restored on restart. */
export class FedAvgM extends FedAvg {
  override readonly name: string = 'fedavgm';
  private readonly momentum: number;
  private velocity: Float64Array | undefined;
  private readonly serverLrFactor: (roundId: number) => number;

  constructor(options: FedAvgMOptions = {}) {
    super(options);
    this.serverLrFactor = options.serverLrFactor ?? (() => 1);
    this.momentum = options.momentum ?? 0.9;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`momentum must be in [0, 1), got ${this.momentum}`);
  }

  override aggregateFit(roundId: number, global: Weights, sums: AggregateSums, _failures: readonly Failure[]): Weights {
    const step = averageDelta(global.manifest, sums);
    if (!this.velocity || this.velocity.length !== step.length) this.velocity = new Float64Array(step.length);
    const v = this.velocity;
    for (let i = 0; i < v.length; i++) v[i] = this.momentum * v[i]! + step[i]!;
    return applyStep(global, v, this.serverLearningRate * this.serverLrFactor(roundId));
  }

  saveState(manifest: WeightManifest): StrategyState | undefined {
    return this.velocity ? { velocity: toTensors(manifest, this.velocity) } : undefined;
  }

  loadState(manifest: WeightManifest, state: StrategyState): void {
    this.velocity = fromTensors(manifest, state['velocity'], 'velocity');
  }

  /** New item rows start with zero velocity; the old rows keep theirs. */
  growRows(from: WeightManifest, to: WeightManifest): void {
    if (this.velocity) this.velocity = growFlat(from, to, this.velocity, (n) => new Float64Array(n));
  }
}
