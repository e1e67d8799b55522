import { rowLayout, tensorSize, type CatalogueEntry, type CatalogueItem, type ModelSpec, type WeightManifest, type Weights } from '@fedrec/protocol';

/** The model's item count, from its spec (`options.numItems`), or undefined for a model without items. */
export function numItemsOf(spec: ModelSpec): number | undefined {
  const n = Number(spec.options['numItems']);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The manifest with every rowwise table of `from` rows grown to `to` rows (other tensors unchanged). */
export function growManifest(manifest: WeightManifest, from: number, to: number): WeightManifest {
  return {
    tensors: manifest.tensors.map((t) => (t.shared && t.rowwise && t.shape[0] === from ? { ...t, shape: [to, ...t.shape.slice(1)] } : t)),
  };
}

/**
 * Copies a flat vector laid out by `from` into one laid out by `to` (the same manifest with longer
 * rowwise tables): rows that exist keep their values, appended rows are zero. Strategies grow their
 * state (momentum, Adam moments) with it.
 */
export function growFlat<T extends Float32Array | Float64Array | Uint32Array>(from: WeightManifest, to: WeightManifest, vec: T, make: (n: number) => T): T {
  const a = rowLayout(from).segments;
  const b = rowLayout(to).segments;
  if (a.length !== b.length || vec.length !== (a.at(-1) ? a.at(-1)!.offset + a.at(-1)!.size : 0))
    throw new RangeError('growFlat: vector does not match the old layout');
  const out = make(b.at(-1) ? b.at(-1)!.offset + b.at(-1)!.size : 0);
  a.forEach((s, i) => {
    const t = b[i]!;
    if (t.name !== s.name || t.size < s.size) throw new RangeError(`growFlat: tensor ${s.name} does not grow`);
    out.set(vec.subarray(s.offset, s.offset + s.size), t.offset);
  });
  return out;
}

export interface GrowthOptions {
  /** Std of the noise added to each new row, as a fraction of the table's element std (default 0.1). */
  noiseScale?: number;
  /** Seeds the noise (the coordinator uses the new catalogue version). */
  seed?: number;
  /**
   * Rescale each prior to the mean norm of the rows it averages (a mean of many rows is shorter than
   * any of them, which makes a new item score like nothing in particular). Default false.
   */
  matchNorm?: boolean;
}

/**
 * The model after appending `added` items: each rowwise item table gets one row per new item, set to
 * the mean of the existing rows that share one of the item's tags (an item sharing two tags counts
 * twice), else the mean of all existing rows, plus small Gaussian noise so new items are not ties.
 * The spec's numItems grows; nothing else changes.
 */
export function growModel(
  global: Weights,
  spec: ModelSpec,
  existing: readonly CatalogueEntry[],
  added: readonly CatalogueItem[],
  options: GrowthOptions = {},
): { weights: Weights; modelSpec: ModelSpec } {
  const n = numItemsOf(spec);
  if (n === undefined) throw new RangeError(`model ${spec.name} has no numItems option: it has no item rows to grow`);
  const m = n + added.length;
  const manifest = growManifest(global.manifest, n, m);
  const body = growFlat(global.manifest, manifest, global.body, (k) => new Float32Array(k));
  const random = gaussian(options.seed ?? 1);
  const noiseScale = options.noiseScale ?? 0.1;
  const newTables = rowLayout(manifest).tables.filter((t) => t.rows === m);
  for (const t of newTables) {
    const table = body.subarray(t.offset, t.offset + n * t.cols);
    const mean = new Float64Array(t.cols);
    let sq = 0;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < t.cols; c++) {
        const v = table[r * t.cols + c]!;
        mean[c]! += v / n;
        sq += (v * v) / (n * t.cols);
      }
    }
    const meanSq = mean.reduce((s, v) => s + v * v, 0) / Math.max(1, t.cols);
    let meanNorm = 0;
    for (let r = 0; r < n; r++) meanNorm += Math.hypot(...table.subarray(r * t.cols, (r + 1) * t.cols)) / n;
    const noiseStd = noiseScale * Math.sqrt(Math.max(0, sq - meanSq));
    const tagSums = tagMeans(table, t.cols, existing, added);
    added.forEach((item, i) => {
      const prior = new Float64Array(t.cols);
      let count = 0;
      let norms = 0;
      for (const tag of item.tags ?? []) {
        const s = tagSums.get(tag);
        if (!s || s.count === 0) continue;
        for (let c = 0; c < t.cols; c++) prior[c]! += s.sum[c]!;
        count += s.count;
        norms += s.normSum;
      }
      if (count > 0) for (let c = 0; c < t.cols; c++) prior[c]! /= count;
      else prior.set(mean);
      if (options.matchNorm) {
        const target = count > 0 ? norms / count : meanNorm;
        const norm = Math.hypot(...prior);
        if (norm > 0) for (let c = 0; c < t.cols; c++) prior[c]! *= target / norm;
      }
      const row = t.offset + (n + i) * t.cols;
      for (let c = 0; c < t.cols; c++) body[row + c] = prior[c]! + noiseStd * random();
    });
  }
  const sizeOk = manifest.tensors.filter((t) => t.shared).reduce((s, t) => s + tensorSize(t), 0) === body.length;
  if (!sizeOk) throw new RangeError('growModel: grown body does not match its manifest');
  return { weights: { manifest, body }, modelSpec: { name: spec.name, options: { ...spec.options, numItems: m } } };
}

/** Per tag that some new item carries: the sum and count of existing rows with that tag. */
function tagMeans(
  table: Float32Array,
  cols: number,
  existing: readonly CatalogueEntry[],
  added: readonly CatalogueItem[],
): Map<string, { sum: Float64Array; count: number; normSum: number }> {
  const wanted = new Map<string, { sum: Float64Array; count: number; normSum: number }>();
  for (const item of added) for (const tag of item.tags ?? []) if (!wanted.has(tag)) wanted.set(tag, { sum: new Float64Array(cols), count: 0, normSum: 0 });
  if (wanted.size === 0) return wanted;
  for (const e of existing) {
    for (const tag of e.tags ?? []) {
      const s = wanted.get(tag);
      if (!s || e.row * cols >= table.length) continue;
      const row = table.subarray(e.row * cols, (e.row + 1) * cols);
      for (let c = 0; c < cols; c++) s.sum[c]! += row[c]!;
      s.count += 1;
      s.normSum += Math.hypot(...row);
    }
  }
  return wanted;
}

/** A seeded standard normal (mulberry32 + Box-Muller): the same growth gives the same rows. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0 || 1;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}
