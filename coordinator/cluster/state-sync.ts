import type { CheckpointState } from '../checkpoint-store.js';
import { Catalogue } from '../catalogue.js';
import { numItemsOf } from '../catalogue-growth.js';
import type { CoordinatorState } from '../state.js';
import type { Strategy } from '../strategy/strategy.js';

/**
 * Puts a committed version (its checkpoint in the shared directory) into a node's state: the model,
 * its catalogue, the round counter and history, the strategy's and the update policy's state. Followers
 * do it on each commit announcement; a node taking the lease does it before its first round.
 */
export function applyCheckpoint(state: CoordinatorState, cp: CheckpointState, strategy: Strategy): void {
  const items = numItemsOf(cp.modelSpec);
  Object.assign(state, {
    global: cp.weights,
    modelSpec: cp.modelSpec,
    modelVersion: cp.modelVersion,
    nextRoundId: Math.max(state.nextRoundId, cp.nextRoundId),
    history: cp.history,
    catalogue: cp.catalogue ? Catalogue.restore(cp.catalogue) : Catalogue.numeric(items ?? 0),
    roundsCommitted: cp.modelVersion,
  });
  if (cp.strategyState) strategy.loadState?.(cp.weights.manifest, cp.strategyState);
  if (cp.policyState) state.updatePolicy.restore(cp.policyState);
}
