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
import { UpdateAccumulator } from '../strategy/update-accumulator.js';
import { applyBounds, measureUpdate, type DenseUpdate, type UpdateBounds, type UpdateMeasure } from '../strategy/update-policy.js';
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
 */
export class UpdateShard {
  private round = -1;
  private manifest: WeightManifest | undefined;
  private limits: UpdateLimits | undefined;
  private tables: readonly RowTable[] = [];
  private accumulator: UpdateAccumulator | undefined;
  private readonly opened = new Map<number, Opened>();

  constructor(private readonly opener: EnvelopeOpener) {}

  begin(round: number, manifest: WeightManifest, limits: UpdateLimits): void {
    this.round = round;
    this.manifest = manifest;
    this.limits = limits;
    this.tables = rowLayout(manifest).tables;
    this.accumulator = undefined; // allocated on the first accepted update: an idle shard costs nothing
    this.opened.clear();
  }

  /** Opens and validates one envelope; throws the ProtocolError that says why it may not count. */
  async open(
    round: number,
    job: number,
    envelope: SealedEnvelope,
    binding: EnvelopeBinding,
  ): Promise<{ update: DenseUpdate; metrics: Record<string, number>; measured: UpdateMeasure }> {
    const { manifest, limits } = this.current(round);
    checkUpdateSize(envelope, limits);
    const plaintext = await this.opener.open(envelope, binding);
    checkUpdatePadding(plaintext, manifest, limits.compression); // the same checks as update-validation.ts's in-thread path
    const payload = validateUpdate(decodeUpdatePayload(plaintext, manifest, limits.compression), manifest, limits);
    const update: DenseUpdate = { numExamples: payload.numExamples, delta: payload.delta, rowWeights: payload.rowWeights };
    const measured = measureUpdate(update, this.tables);
    this.opened.set(job, { update, measured });
    return { update, metrics: payload.metrics, measured };
  }

  /** Applies the bounds the main thread decided and adds the update to the partial sums. */
  apply(round: number, job: number, bounds: UpdateBounds): { clipped: boolean; weightCapped: boolean; rowsClipped: number } {
    const { manifest } = this.current(round);
    const o = this.takeOpened(job);
    const u = applyBounds(o.update, bounds, o.measured);
    this.accumulator ??= new UpdateAccumulator(manifest);
    this.accumulator.add(u.numExamples, u.delta, u.rowWeights);
    return { clipped: u.clipped, weightCapped: u.weightCapped, rowsClipped: u.rowsClipped };
  }

  /** Gives an opened update back instead of adding it. */
  take(round: number, job: number): DenseUpdate {
    this.current(round);
    return this.takeOpened(job).update;
  }

  discard(job: number): void {
    this.opened.delete(job);
  }

  /** The partial sums (undefined when nothing was added) and the end of the round. */
  finish(round: number): AggregateSums | undefined {
    if (round !== this.round) return undefined;
    const sums = this.accumulator?.sums;
    this.accumulator = undefined;
    this.opened.clear();
    this.round = -1;
    return sums;
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
