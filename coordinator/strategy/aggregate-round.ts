import type { Weights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { RoundUpdates } from './round-input.js';
import type { Strategy } from './strategy.js';

/** True when the strategy needs each update (and so a buffer of them) rather than sums. */
export function isBuffering(strategy: Strategy): boolean {
  return typeof strategy.aggregateUpdates === 'function';
}

/** The one place a round's input becomes the next model: each update to a buffering strategy, the sums to the others. */
export async function aggregateRound(
  strategy: Strategy,
  roundId: number,
  global: Weights,
  input: Pick<RoundUpdates, 'sums' | 'updates'>,
  failures: readonly Failure[],
): Promise<Weights> {
  if (strategy.aggregateUpdates) {
    if (!input.updates) throw new Error(`strategy ${strategy.name} needs each update, and this round only has sums (secure aggregation?)`);
    return strategy.aggregateUpdates(roundId, global, input.updates, failures);
  }
  return strategy.aggregateFit(roundId, global, input.sums, failures);
}
