import { rowLayout, sharedLayout, type ModelSpec, type WeightManifest } from '@fedrec/protocol';
import type { LocalFitResult } from '@fedrec/models/ncf/engine/local-fit.js';
import type { RecommenderEngine } from '@fedrec/models/recommender-engine.js';
import { parseChoice } from '@fedrec/recsys/choice.js';

/** Where a device keeps its personal tensors (RecsysTrainer's PrivateStore satisfies it). */
interface TensorStore {
  get(key: string): Float32Array | undefined | Promise<Float32Array | undefined>;
  set(key: string, value: Float32Array): void | Promise<void>;
}

/** 'none': the global model as it is; 'pfedrec': PFedRec's dual personalization (pfedrec.ts). */
export type Personalization = 'none' | 'pfedrec';
export const PERSONALIZATIONS: readonly Personalization[] = ['none', 'pfedrec'];

/**
 * Which item rows PFedRec's fine-tune keeps on the device (round config `extra.pfedrecFineTune`):
 * - 'touched' (default, PFedRec's own): every row the round trained, the sampled negatives' included;
 * - 'positives': only the rows of items the device interacted with. A sampled negative's pushed-down row
 *   is not kept, so a never-seen item is scored with the global row whether or not it was drawn. Under the
 *   strict protocol the test item can be drawn as a negative and was then kept pushed down, while under
 *   the held-out protocol it never is, but a fraction of its 99 evaluation negatives are (README "PFedRec").
 */
export type PfedrecFineTune = 'touched' | 'positives';
export const PFEDREC_FINE_TUNES = ['touched', 'positives'] as const satisfies readonly PfedrecFineTune[];

/** Parses the fine-tune mode from round config; anything else is an error naming the choices. */
export function parsePfedrecFineTune(v: unknown): PfedrecFineTune {
  return parseChoice(v, PFEDREC_FINE_TUNES, 'pfedrec fine-tune');
}

/**
 * PFedRec's dual personalization (Zhang et al., "Dual Personalization on Federated Recommendation",
 * IJCAI 2023), on any recommender engine:
 * - a per-device score function: the model's score-function tensors (engine.scoreFunction, else every
 *   dense shared tensor: NCF's MLP and output layer, the seq model's head) are the device's own copy,
 *   trained locally and never uploaded (their delta is sent as zero, so the global copy stays at init);
 * - item-embedding fine-tuning: each round the device starts from the global item rows, trains them
 *   with its own score function, uploads the item delta as usual, and keeps that delta as its personal
 *   fine-tune: recommend() and evaluate() score with global rows + the device's last fine-tune.
 */
export class PfedrecState {
  constructor(
    private readonly store: TensorStore,
    private readonly model: string,
  ) {}

  private key(name: string): string {
    return `${this.model}/pfedrec/${name}`;
  }

  private headNames(engine: RecommenderEngine, options: ModelSpec['options'], manifest: WeightManifest): string[] {
    return engine.scoreFunction?.(options) ?? sharedLayout(manifest).flatMap(({ spec }) => (spec.rowwise ? [] : [spec.name]));
  }

  /** The global shared tensors with this device's own score function in place (copies; the global body is left alone). */
  async forFit(
    engine: RecommenderEngine,
    options: ModelSpec['options'],
    manifest: WeightManifest,
    global: Map<string, Float32Array>,
  ): Promise<Map<string, Float32Array>> {
    const out = new Map(global);
    for (const name of this.headNames(engine, options, manifest)) {
      const mine = await this.store.get(this.key(name));
      const size = global.get(name)?.length;
      // A head of another size belongs to an older model shape: start from the global one.
      if (mine && mine.length === size) out.set(name, mine.slice());
    }
    return out;
  }

  /** What recommend() and evaluate() score with: the device's score function, global item rows + its fine-tune. */
  async forScoring(
    engine: RecommenderEngine,
    options: ModelSpec['options'],
    manifest: WeightManifest,
    global: Map<string, Float32Array>,
  ): Promise<Map<string, Float32Array>> {
    const out = await this.forFit(engine, options, manifest, global);
    const items = await this.store.get(this.key('items'));
    if (!items) return out;
    for (const { name, table } of rowLayout(manifest).segments) {
      const offsets = await this.store.get(this.key(`offset/${name}`));
      const base = global.get(name);
      if (!table || !offsets || !base || offsets.length !== items.length * table.cols) continue;
      const tuned = base.slice();
      const width = table.cols;
      items.forEach((item, local) => {
        if (item < 0 || item >= table.rows) return;
        for (let k = 0; k < width; k++) tuned[item * width + k]! += offsets[local * width + k]!;
      });
      out.set(name, tuned);
    }
    return out;
  }

  /**
   * After a local fit that started from `used` (forFit): keeps the trained score function and the item
   * fine-tune on the device, and zeroes the score function's delta in `result`, so it never leaves.
   * `positives` given ('positives' fine-tune): only those items' rows are kept; the upload is unchanged.
   */
  async afterFit(
    engine: RecommenderEngine,
    options: ModelSpec['options'],
    manifest: WeightManifest,
    used: Map<string, Float32Array>,
    result: LocalFitResult,
    positives?: ReadonlySet<number>,
  ): Promise<void> {
    for (const name of this.headNames(engine, options, manifest)) {
      const delta = result.denseDeltas.get(name);
      const start = used.get(name);
      if (!delta || !start) throw new Error(`pfedrec: no score-function tensor ${name}`);
      await this.store.set(
        this.key(name),
        start.map((v, k) => v + delta[k]!),
      );
      result.denseDeltas.set(name, new Float32Array(delta.length));
    }
    const local = Array.from(result.localItems);
    const kept = positives ? local.flatMap((item, k) => (positives.has(item) ? [k] : [])) : local.map((_, k) => k);
    // Item ids as float32 are exact up to 2^24 items.
    await this.store.set(
      this.key('items'),
      Float32Array.from(kept, (k) => local[k]!),
    );
    for (const [name, rows] of result.itemDeltas) {
      const width = local.length === 0 ? 0 : rows.length / local.length;
      const out = new Float32Array(kept.length * width);
      kept.forEach((k, j) => out.set(rows.subarray(k * width, (k + 1) * width), j * width));
      await this.store.set(this.key(`offset/${name}`), out);
    }
  }
}
