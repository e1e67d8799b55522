import { rowLayout } from '@fedrec/protocol';
import type { RowTable, WeightManifest } from '@fedrec/protocol';
import { addToTally, type BoundsTally, type DenseUpdate, type UpdateBounds, type UpdatePolicy } from './update-policy.js';
import { UpdateAccumulator } from './update-accumulator.js';
import type { AggregateSums } from '@fedrec/protocol';

/** One accepted update as a buffering strategy receives it (after the norm bound and weight cap). */
export interface ClientUpdate extends DenseUpdate {
  clientId: string;
}

/** What a plain round hands to aggregation: the sums always, each update only for buffering strategies. */
export interface RoundUpdates {
  sums: AggregateSums;
  /** Present when the strategy buffers updates (median, trimmed mean, Krum): O(clients × model) memory. */
  updates?: ClientUpdate[];
  /** How many updates the norm bound scaled down, and how many had their weight capped. */
  clipped: number;
  weightCapped: number;
  /** Item-table rows the row bound scaled down. */
  rowsClipped: number;
}

/**
 * Where a plain round's accepted updates go, one at a time: through the update policy (norm bound,
 * weight cap), then into the streaming sums, and into a buffer when the strategy needs each update.
 * The coordinator's plain collector and the in-process simulation both use it, so they share one path.
 *
 * While an adaptive bound has not yet seen enough norms (only on a coordinator's very first updates:
 * the history is checkpointed), updates are held back until it has, or until the round ends, and are
 * then bounded by the quantile of what was seen: one big first update cannot pass unbounded.
 */
export class RoundInput {
  private readonly accumulator: UpdateAccumulator;
  private readonly buffer: ClientUpdate[] | undefined;
  private readonly tables: readonly RowTable[];
  private held: Array<{ clientId: string; update: DenseUpdate; norm: number }> = [];
  private readonly tallied: BoundsTally = { clipped: 0, weightCapped: 0, rowsClipped: 0 };

  constructor(
    manifest: WeightManifest,
    private readonly policy: UpdatePolicy,
    buffering: boolean,
  ) {
    this.accumulator = new UpdateAccumulator(manifest);
    this.tables = rowLayout(manifest).tables;
    this.buffer = buffering ? [] : undefined;
  }

  /**
   * Takes one validated update (the arrays may be kept: do not reuse them). `norm`: its delta's L2 norm when
   * the caller has it (validateUpdate's), so the policy does not measure the delta again.
   */
  add(clientId: string, update: DenseUpdate, norm?: number): void {
    if (this.held.length > 0 || !this.policy.ready()) {
      this.held.push({ clientId, update, norm: this.policy.observe(update, this.tables, norm) });
      if (this.policy.ready()) this.release();
      return;
    }
    this.take(clientId, this.policy.apply(update, this.tables, norm === undefined ? {} : { norm }));
  }

  /**
   * True when the next update may be bounded and summed elsewhere (the update pool's workers): no buffer
   * to keep it in, nothing held back, the policy's bound ready. Otherwise it comes through add().
   */
  canStream(): boolean {
    return !this.buffer && this.held.length === 0 && this.policy.ready();
  }

  /** For an update summed elsewhere: its bounds (from earlier updates), then its norms join the history. */
  decide(received: number, numExamples: number, rowNorms: ArrayLike<number>): UpdateBounds {
    const bounds = this.policy.bounds();
    this.policy.record(received, numExamples, Array.from(rowNorms));
    return bounds;
  }

  /** Counts what the bounds did to updates summed elsewhere (the update pool hands its tally over with its sums). */
  tally(t: BoundsTally): void {
    addToTally(this.tallied, t);
  }

  /** Ends the round: releases anything held, and returns the sums (and updates, when buffering). */
  finish(): RoundUpdates {
    this.release();
    return {
      sums: this.accumulator.sums,
      ...(this.buffer ? { updates: this.buffer } : {}),
      ...this.tallied,
    };
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) this.take(h.clientId, this.policy.apply(h.update, this.tables, { norm: h.norm, recorded: true }));
  }

  private take(clientId: string, u: ReturnType<UpdatePolicy['apply']>): void {
    addToTally(this.tallied, u);
    this.accumulator.add(u.numExamples, u.delta, u.rowWeights);
    this.buffer?.push({ clientId, numExamples: u.numExamples, delta: u.delta, rowWeights: u.rowWeights });
  }
}
