import {
  decodeUpdatePayload,
  encodeUpdatePayload,
  exceedsRowBudget,
  rowLayout,
  type Compression,
  type UpdatePayload,
  type WeightManifest,
} from '@fedrec/protocol';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { BehaviourStore, StateValue } from './store/behaviour-store.js';

/** Where the residual is kept across sessions. */
export const RESIDUAL_KEY = 'fedrec:compression-residual';

/**
 * Error feedback for lossy uploads (Seide et al. 2014; Karimireddy et al. 2019, "EF-SGD"): what
 * encoding this update lost (its residual: quantization error under fp16/int8, and the rows past a padded
 * update's row budget, protocol/update-payload.ts PADDED_ITEM_ROWS, in any encoding) is added to the next
 * update before that one is encoded, so over rounds the coordinator receives the sum of the true deltas up
 * to one residual, however coarse the encoding. The residual is added only where this update sends values anyway (the
 * dense tensors and the rows it touched): a row the device did not touch this round stays left out
 * of the sparse update, so the feedback never makes an upload name an item it would not have named;
 * that row's residual waits for the next round that touches it. Kept in memory and in the store.
 */
export class ErrorFeedback {
  /**
   * Sparse: the residual is non-zero only where updates carried values (the dense tensors and the rows
   * the device touched), a small share of a large catalogue's model, so only those positions are kept.
   */
  private residual: SparseResidual | undefined;
  private loaded = false;

  constructor(
    private readonly store?: BehaviourStore,
    private readonly logger?: Logger,
  ) {}

  /** Reads the residual a previous session kept (once). */
  async load(): Promise<void> {
    if (this.loaded || !this.store) return;
    this.loaded = true;
    try {
      this.residual ??= fromStateValue(await this.store.get(RESIDUAL_KEY));
    } catch (err) {
      this.logger?.warn({ err: errorMessage(err) }, 'could not read the compression residual');
    }
  }

  /** The residual now held, dense (for tests and diagnostics). */
  get current(): Float32Array | undefined {
    if (!this.residual) return undefined;
    const dense = new Float32Array(this.residual.length);
    const { index, values } = this.residual;
    for (let k = 0; k < index.length; k++) dense[index[k]!] = values[k]!;
    return dense;
  }

  /**
   * Encodes `p` with `codec` plus the residual, and keeps what the encoding lost. 'none' within the row budget
   * is lossless: with no residual held it is a plain encode and leaves the residual alone. `spare`: free bytes
   * after the encoding in its buffer (encodeUpdatePayload's option; the SDK seals in place).
   */
  encode(p: UpdatePayload, manifest: WeightManifest, codec: Compression, spare = 0): Uint8Array {
    if (codec === 'none' && !this.residual?.index.length && !exceedsRowBudget(p, manifest)) return encodeUpdatePayload(p, manifest, { spare });
    // The positions this update carries, as ranges: on a large catalogue a device touches a few hundred
    // rows of tens of thousands, and a per-value mask and per-value loops over the whole model were most
    // of a simulated device's time (README "The 17,632-item run").
    const sent = sentRanges(p, manifest);
    const target = new Float32Array(p.delta);
    const old = this.residual?.length === target.length ? this.residual : undefined;
    if (old) {
      for (let k = 0; k < old.index.length; k++) {
        const at = old.index[k]!;
        if (inRanges(sent, at)) target[at]! += old.values[k]!;
      }
    }
    const bytes = encodeUpdatePayload({ ...p, delta: target }, manifest, { compression: codec, spare });
    // What the coordinator will read: decoding our own bytes is the exact reference for the residual.
    const decoded = decodeUpdatePayload(bytes, manifest, codec).delta;
    const index: number[] = [];
    const values: number[] = [];
    // Positions this update did not carry keep their residual for a later round that touches them.
    if (old) {
      for (let k = 0; k < old.index.length; k++) {
        const at = old.index[k]!;
        if (inRanges(sent, at)) continue;
        index.push(at);
        values.push(old.values[k]!);
      }
    }
    for (let r = 0; r < sent.length; r += 2) {
      for (let i = sent[r]!; i < sent[r + 1]!; i++) {
        const lost = target[i]! - decoded[i]!;
        if (lost === 0) continue;
        index.push(i);
        values.push(lost);
      }
    }
    this.residual = { length: target.length, index, values: Float32Array.from(values) };
    if (this.store) {
      this.store
        .set(RESIDUAL_KEY, toStateValue(this.residual))
        .catch((err: unknown) => this.logger?.warn({ err: errorMessage(err) }, 'could not store the compression residual'));
    }
    return bytes;
  }
}

interface SparseResidual {
  /** Length of the dense delta it belongs to (a model of another shape drops it). */
  length: number;
  /** Positions with a non-zero residual, and their values. */
  index: number[];
  values: Float32Array;
}

function toStateValue(r: SparseResidual): StateValue {
  return { length: r.length, index: r.index, values: r.values };
}

/** A stored residual, checked like anything read back; undefined when unusable. */
function fromStateValue(v: StateValue | undefined): SparseResidual | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Float32Array) return undefined;
  const { length, index, values } = v as { length?: unknown; index?: unknown; values?: unknown };
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || !Array.isArray(index) || !(values instanceof Float32Array)) return undefined;
  if (index.length !== values.length || !index.every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < length)) return undefined;
  if (!values.every((x) => Number.isFinite(x))) return undefined;
  return { length, index: index as number[], values };
}

/**
 * Where the update carries values, as sorted, merged [start, end) pairs: every dense tensor, and the
 * rows of rowwise tables it touched (weight or non-zero delta).
 */
function sentRanges(p: UpdatePayload, m: WeightManifest): number[] {
  const out: number[] = [];
  const add = (start: number, end: number) => {
    if (out.length > 0 && out[out.length - 1] === start) out[out.length - 1] = end;
    else out.push(start, end);
  };
  for (const seg of rowLayout(m).segments) {
    const t = seg.table;
    if (!t || !p.rowWeights) {
      add(seg.offset, seg.offset + seg.size);
      continue;
    }
    for (let row = 0; row < t.rows; row++) {
      const start = t.offset + row * t.cols;
      let touched = p.rowWeights[t.rowWeightOffset + row] !== 0;
      for (let j = 0; !touched && j < t.cols; j++) touched = p.delta[start + j] !== 0;
      if (touched) add(start, start + t.cols);
    }
  }
  return out;
}

/** Whether position `at` lies in one of the sorted ranges (binary search). */
function inRanges(ranges: number[], at: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[2 * mid + 1]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length / 2 && ranges[2 * lo]! <= at;
}
