import {
  checkUpdatePadding,
  decodeUpdatePayload,
  rowLayout,
  type AggregateSums,
  type EnvelopeBinding,
  type RowTable,
  type SealedEnvelope,
  type WeightManifest,
} from '@fedrec/protocol';
import type { EnvelopeOpener } from '@fedrec/protocol';
import type { UpdateLimits } from '../fit-collector.js';
import { UpdateAccumulator, type DenseAdd } from '../strategy/update-accumulator.js';
import {
  addToTally,
  applyBounds,
  emptyTally,
  measureUpdate,
  type BoundsTally,
  type DenseUpdate,
  type UpdateBounds,
  type UpdateMeasure,
} from '../strategy/update-policy.js';
import { checkUpdateSize, validateUpdate } from '../update-validation.js';

interface Opened {
  update: DenseUpdate;
  measured: UpdateMeasure;
}

/**
 * One worker's share of a round: it opens, decodes and validates updates with the coordinator's one
 * validation path (update-validation.ts), measures them for the update policy, and, once the main thread
 * has sent the bounds, applies them (update-policy.ts's applyBounds) and adds the update to its own
 * partial sums. Only updates in flight are held, so a shard is O(model) plus O(model) per open update.
 *
 * Adding is deferred to `drain`, which the worker calls once the messages that arrived together are
 * handled: updates whose bounds came in the same burst are summed in one fused kernel pass (up to
 * simd-axpy.ts's MAX_FUSED per pass, bitwise the same sums as one at a time), which moves fewer bytes per
 * update. An update waits there no longer than the current batch of messages, and holds no more memory than
 * it did while open.
 */
export class UpdateShard {
  private round = -1;
  private manifest: WeightManifest | undefined;
  private limits: UpdateLimits | undefined;
  private tables: readonly RowTable[] = [];
  private accumulator: UpdateAccumulator | undefined;
  private readonly opened = new Map<number, Opened>();
  /** Bounded updates not yet added: `drain` adds them. */
  private waiting: DenseAdd[] = [];
  /** What the bounds did to the updates applied since the last hand-over (it goes with the sums). */
  private tally: BoundsTally = emptyTally();

  constructor(private readonly opener: EnvelopeOpener) {}

  begin(round: number, manifest: WeightManifest, limits: UpdateLimits): void {
    this.round = round;
    this.manifest = manifest;
    this.limits = limits;
    this.tables = rowLayout(manifest).tables;
    this.accumulator = undefined; // allocated on the first accepted update: an idle shard costs nothing
    this.opened.clear();
    this.waiting = [];
    this.tally = emptyTally();
  }

  /**
   * Opens and validates one envelope; throws the ProtocolError that says why it may not count. Adds the
   * waiting updates first: the pool frees an update's in-flight slot when it posts the apply, so a shard must
   * not decode a new update while it still holds applied ones (its memory stays within the pool's bound).
   */
  async open(
    round: number,
    job: number,
    envelope: SealedEnvelope,
    binding: EnvelopeBinding,
  ): Promise<{ update: DenseUpdate; metrics: Record<string, number>; measured: UpdateMeasure }> {
    const { manifest, limits } = this.current(round);
    this.drain();
    checkUpdateSize(envelope, limits);
    const plaintext = await this.opener.open(envelope, binding);
    checkUpdatePadding(plaintext, manifest, limits.compression); // the same checks as update-validation.ts's in-thread path
    // The plaintext is this update's own (freshly decrypted, dropped after): the delta may view it, not copy it.
    const payload = validateUpdate(decodeUpdatePayload(plaintext, manifest, limits.compression, true), manifest, limits);
    const update: DenseUpdate = { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights };
    const measured = measureUpdate(update, this.tables, payload.norm);
    this.opened.set(job, { update, measured });
    return { update, metrics: payload.metrics, measured };
  }

  /**
   * Applies the bounds the main thread decided; the update counts from here on and is added to the partial
   * sums by the next `drain` (at the latest by `finish`).
   */
  apply(round: number, job: number, bounds: UpdateBounds, scale = 1): void {
    this.current(round);
    const o = this.takeOpened(job);
    if (scale !== 1) scaleOpened(o, scale);
    const u = applyBounds(o.update, bounds, o.measured);
    this.waiting.push({ numExamples: u.numExamples, delta: u.delta, rowWeights: u.rowWeights });
    addToTally(this.tally, u);
  }

  /** Updates applied but not yet added. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Adds every waiting update to the partial sums, fused in groups (UpdateAccumulator.addMany). */
  drain(): void {
    if (this.waiting.length === 0 || !this.manifest) return;
    const batch = this.waiting;
    this.waiting = [];
    this.accumulator ??= new UpdateAccumulator(this.manifest);
    this.accumulator.addMany(batch);
  }

  /**
   * Buffered mode: hands over the partial sums of everything applied so far (undefined when nothing was) and
   * goes on with empty ones in the same round. Opened updates stay open: they belong to whichever buffer the
   * main thread applies them to next.
   */
  cut(round: number): { sums: AggregateSums | undefined; tally: BoundsTally } {
    this.current(round);
    return this.handOver();
  }

  /** Gives an opened update back instead of adding it. */
  take(round: number, job: number): DenseUpdate {
    this.current(round);
    return this.takeOpened(job).update;
  }

  discard(job: number): void {
    this.opened.delete(job);
  }

  /** The partial sums (undefined when nothing was added), their tally, and the end of the round. */
  finish(round: number): { sums: AggregateSums | undefined; tally: BoundsTally } {
    if (round !== this.round) return { sums: undefined, tally: emptyTally() };
    const out = this.handOver();
    this.opened.clear();
    this.round = -1;
    return out;
  }

  /** Everything applied so far, summed, with its tally; the shard goes on with empty sums. */
  private handOver(): { sums: AggregateSums | undefined; tally: BoundsTally } {
    this.drain();
    const out = { sums: this.accumulator?.sums, tally: this.tally };
    this.accumulator = undefined;
    this.tally = emptyTally();
    return out;
  }

  private current(round: number): { manifest: WeightManifest; limits: UpdateLimits } {
    if (round !== this.round || !this.manifest || !this.limits) throw new Error(`update shard: round ${round} is not the round in progress (${this.round})`);
    return { manifest: this.manifest, limits: this.limits };
  }

  private takeOpened(job: number): Opened {
    const o = this.opened.get(job);
    if (!o) throw new Error(`update shard: no opened update ${job}`);
    this.opened.delete(job);
    return o;
  }
}

/**
 * Multiplies an opened update's delta by `scale` in place (buffered mode's staleness weight), with its
 * measured norms, so the bounds see the weighted delta as the main thread's path does (weight first, then
 * the policy). The delta is the worker's own decoded array: nobody else holds it.
 */
function scaleOpened(o: Opened, scale: number): void {
  const d = o.update.delta;
  for (let i = 0; i < d.length; i++) d[i]! *= scale;
  o.measured = { received: o.measured.received * scale, rows: o.measured.rows.map((r) => ({ ...r, norm: r.norm * scale })) };
}
