import type { AggregateSums, Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import { FedAvg } from './fedavg.js';
import type { ClientUpdate } from './round-input.js';

/**
 * The base of strategies that aggregate each accepted update (robust statistics). They sample and
 * evaluate as FedAvg does; the plain collector buffers every update of the round for them, so their
 * memory is O(clients × model) per round, where the streaming strategies keep O(model).
 */
export abstract class BufferingStrategy extends FedAvg {
  abstract override readonly name: string;

  abstract aggregateUpdates(roundId: number, global: Weights, updates: readonly ClientUpdate[], failures: readonly Failure[]): Weights;

  /** Sums cannot say which update was an outlier: refuse rather than quietly fall back to the mean. */
  override aggregateFit(_roundId: number, _global: Weights, _sums: AggregateSums, _failures: readonly Failure[]): Weights {
    throw new Error(`strategy ${this.name} needs each update; it cannot aggregate sums (secure aggregation)`);
  }
}
