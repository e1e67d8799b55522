import type { Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { AggregateSums } from '@fedrec/protocol';
import { fedAvg, weightedMetricMean } from './fedavg-math.js';
import { sampleClients } from './sampling.js';
import type { ClientInstruction, ConfigureArgs, EvaluateResult, Strategy } from './strategy.js';

export interface FedAvgOptions {
  /** Multiplies the averaged delta (1 = plain FedAvg). */
  serverLearningRate?: number;
  /** Source of randomness for client sampling (inject a seeded one for reproducible runs). */
  random?: () => number;
}

/** Federated averaging: example-weighted mean delta, rowwise tensors averaged row by row. */
export class FedAvg implements Strategy {
  readonly name: string = 'fedavg';
  protected readonly serverLearningRate: number;
  protected readonly random: () => number;

  constructor(options: FedAvgOptions = {}) {
    this.serverLearningRate = options.serverLearningRate ?? 1;
    this.random = options.random ?? Math.random;
    if (!(this.serverLearningRate > 0) || !Number.isFinite(this.serverLearningRate)) {
      throw new RangeError(`serverLearningRate must be a positive finite number, got ${this.serverLearningRate}`);
    }
  }

  configureFit(args: ConfigureArgs): ClientInstruction[] {
    return sampleClients(args.clients, args.sampleSize, this.random).map((c) => ({ clientId: c.clientId, config: args.config }));
  }

  aggregateFit(_roundId: number, global: Weights, sums: AggregateSums, _failures: readonly Failure[]): Weights {
    return fedAvg(global, sums, this.serverLearningRate);
  }

  configureEvaluate(args: ConfigureArgs): ClientInstruction[] {
    return this.configureFit(args);
  }

  aggregateEvaluate(_roundId: number, results: readonly EvaluateResult[], _failures: readonly Failure[]): Record<string, number> {
    return weightedMetricMean(results);
  }
}
