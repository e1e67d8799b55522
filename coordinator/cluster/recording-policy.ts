import type { RowTable } from '@fedrec/protocol';
import { measureUpdate, UpdatePolicy } from '../strategy/update-policy.js';
import type { DenseUpdate } from '../strategy/update-policy.js';

/** The norms, weights and row norms a node saw in one fit order, for the leader's shared history (per update, in order). */
export interface ObservedNorms {
  norms: number[];
  weights: number[];
  rowNorms: number[];
}

/**
 * A follower's update policy for one fit order: a copy of the committed history (the leader's, loaded
 * with the version), so this node bounds its clients' updates exactly as the leader's history says,
 * and a record of what it added, which goes back to the leader with the partial sums. The leader adds
 * it to its own history, checkpoints it with the version, and every node loads it on the commit: the
 * adaptive norm bound and weight cap are learned from every node's updates, not per node.
 */
export class RecordingPolicy extends UpdatePolicy {
  readonly observed: ObservedNorms = { norms: [], weights: [], rowNorms: [] };

  constructor(committed: UpdatePolicy) {
    super(committed.options);
    this.restore(committed.state());
  }

  override observe(u: DenseUpdate, tables: readonly RowTable[] = [], known?: number): number {
    const norm = super.observe(u, tables, known);
    this.note(norm, u.numExamples, this.options.rowNormBound === 'off' ? [] : measureUpdate(u, tables, norm).rows.map((r) => r.norm));
    return norm;
  }

  override record(norm: number, weight: number, rowNorms: readonly number[]): void {
    super.record(norm, weight, rowNorms);
    this.note(norm, weight, rowNorms);
  }

  private note(norm: number, weight: number, rowNorms: readonly number[]): void {
    this.observed.norms.push(norm);
    this.observed.weights.push(weight);
    // Row norms only matter (and are only kept) with an adaptive row bound: nothing to ship otherwise.
    if (this.options.rowNormBound !== 'off') for (const r of rowNorms) this.observed.rowNorms.push(r);
  }
}

/** Appends another node's observations to the leader's history (each window keeps its newest entries). */
export function mergeObserved(policy: UpdatePolicy, observed: ObservedNorms): void {
  const mine = policy.state();
  policy.restore({
    norms: [...mine.norms, ...observed.norms],
    weights: [...mine.weights, ...observed.weights],
    rowNorms: [...(mine.rowNorms ?? []), ...observed.rowNorms],
  });
}
