import { z } from 'zod';
import { bytesToFloat32 } from './binary.js';
import { ProtocolError } from './errors.js';
import { compressionSchema, decodeValues, encodeValues, encodedSize, type Compression } from './compression.js';
import { bodyBlocks, rowWeightsSize, sharedLayout, sharedSize, type WeightManifest } from './weights.js';
import { rowLayout, type RowTable } from './row-layout.js';

/** A client's training result: what is sealed inside the envelope. */
export interface UpdatePayload {
  /** Local examples trained on: the FedAvg weight. */
  numExamples: number;
  /** Scalar training metrics (loss, ...). */
  metrics: Record<string, number>;
  /** New minus old shared weights, in manifest order. */
  delta: Float32Array;
  /** One weight per row of each rowwise tensor (examples that touched the row); absent when none. */
  rowWeights?: Float32Array;
}

const headerSchema = z.object({
  numExamples: z.number().finite().min(0),
  metrics: z.record(z.string().max(64), z.number()),
  /** Dense lengths, whatever the encoding. */
  deltaLength: z.number().int().min(0),
  rowWeightsLength: z.number().int().min(0),
  /** Rows of rowwise tensors with zero weight and zero delta are left out (a bitmap says which are kept). */
  sparseRows: z.boolean().optional(),
  /** How the delta values are encoded (protocol/compression.ts); absent = float32. Row weights stay float32. */
  encoding: compressionSchema.optional(),
});
type Header = z.infer<typeof headerSchema>;

/** How an update is encoded: the run's compression (the coordinator refuses any other with WRONG_ENCODING). */
export interface UpdateEncodeOptions {
  compression?: Compression;
  /** Zero-pad to the run's size bucket (default: whenever the manifest is given; see PADDED_ITEM_ROWS). */
  pad?: boolean;
  /**
   * Free bytes to leave in the returned bytes' ArrayBuffer after them (default 0): the SDK asks for the
   * envelope's tag, so the payload is sealed in its own memory (EnvelopeSealer.sealInPlace).
   */
  spare?: number;
}

const MAX_HEADER_BYTES = 64 * 1024;

/**
 * Fixed size (plain mode's sizes): with the manifest, every sparse update of a run has one size, the run's
 * size bucket B, so neither a wire observer nor anyone who sees only sizes can count the item rows a device
 * touched. B is the size of a sparse update carrying PADDED_ITEM_ROWS rows of each item table (all of a smaller
 * table) plus HEADER_ALLOWANCE bytes of header: it depends only on the manifest and the run's encoding, which
 * both sides know, so no setting travels. Every update is zero-padded to B, and a device that touched more rows
 * of a table than the budget sends the budget's worth: the rows with the largest deltas (top-k sparsification,
 * Aji & Heafield 2017); the SDK carries the rest to a later update by error feedback (client-sdk/error-feedback.ts),
 * so nothing is lost, only delayed. 2,048 rows hold every row of ML-100K's 1,682-item table (there the budget
 * never drops anything and B is the dense table's size plus the row bitmap) and bound a 100k-item catalogue's
 * update at 2% of its table. Until November 2026 the budget was 512 rows and a heavier device went to 2B, 4B, ...:
 * its size said "more than 512 rows" (an ML-100K user's upload size ranked with its item count at Spearman 0.79).
 * The coordinator opens the update and still sees which rows carry weight: hiding them from it is secure
 * aggregation's job (secagg+, npm start's default).
 */
export const PADDED_ITEM_ROWS = 2048;
/** Room for the JSON header (example count, metrics) inside the bucket: a few metrics fit many times over. */
const HEADER_ALLOWANCE = 1024;
/** Sparse only pays when it leaves out a fair share of the rows. */
const SPARSE_WHEN_KEPT_BELOW = 0.75;

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * The rows an update carries: a row is touched when it has weight or any non-zero delta (leaving the rest out
 * loses nothing); with a `budget`, at most that many of each table, the largest deltas first (L2 norm, then
 * row weight, then row order: deterministic).
 */
function keptRows(p: UpdatePayload, tables: RowTable[], budget = Infinity): Uint8Array {
  const kept = new Uint8Array(p.rowWeights!.length);
  let r = 0;
  for (const t of tables) {
    const touched: { row: number; norm: number; weight: number }[] = [];
    for (let row = 0; row < t.rows; row++, r++) {
      const start = t.offset + row * t.cols;
      let norm = 0;
      for (let j = 0; j < t.cols; j++) norm += p.delta[start + j]! * p.delta[start + j]!;
      const weight = p.rowWeights![r]!;
      if (weight === 0 && norm === 0) continue;
      kept[r] = 1;
      touched.push({ row: r, norm, weight });
    }
    if (touched.length <= budget) continue;
    touched.sort((a, b) => b.norm - a.norm || b.weight - a.weight || a.row - b.row);
    for (let i = budget; i < touched.length; i++) kept[touched[i]!.row] = 0;
  }
  return kept;
}

/** Whether some item table of `p` has more touched rows than a padded update carries (PADDED_ITEM_ROWS). */
export function exceedsRowBudget(p: UpdatePayload, manifest: WeightManifest): boolean {
  if (!p.rowWeights || p.rowWeights.length !== rowWeightsSize(manifest) || p.delta.length !== sharedSize(manifest)) return false;
  const tables = rowLayout(manifest).tables;
  if (tables.every((t) => t.rows <= PADDED_ITEM_ROWS)) return false;
  const kept = keptRows(p, tables);
  let r = 0;
  for (const t of tables) {
    let count = 0;
    for (let row = 0; row < t.rows; row++, r++) count += kept[r]!;
    if (count > PADDED_ITEM_ROWS) return true;
  }
  return false;
}

/**
 * The int8 scale blocks of the values an update carries: with the manifest, the body's blocks
 * (weights.ts bodyBlocks: per row of 2-D tensors, per tensor otherwise) minus the rows a sparse
 * update leaves out; without it, one block.
 */
function valueBlocks(deltaLength: number, m: WeightManifest | undefined, kept: Uint8Array | undefined): Uint32Array {
  if (!m || deltaLength !== sharedSize(m)) return deltaLength > 0 ? Uint32Array.of(deltaLength) : new Uint32Array(0);
  if (!kept) return bodyBlocks(m);
  const lengths: number[] = [];
  let r = 0;
  for (const { spec, size } of sharedLayout(m)) {
    if (size === 0) continue;
    const rows = spec.shape.length === 2 ? (spec.shape[0] ?? 0) : 1;
    const cols = size / rows;
    for (let row = 0; row < rows; row++) {
      if (spec.rowwise && !kept[r++]) continue;
      lengths.push(cols);
    }
  }
  return Uint32Array.from(lengths);
}

/** The run's size bucket B (see PADDED_ITEM_ROWS): the first size every padded update is rounded up to. */
export function paddedBucketBytes(manifest: WeightManifest, compression: Compression = 'none'): number {
  const tables = rowLayout(manifest).tables;
  const rowCount = rowWeightsSize(manifest);
  const kept = new Uint8Array(rowCount);
  let r = 0;
  for (const t of tables) {
    for (let row = 0; row < t.rows; row++, r++) if (row < PADDED_ITEM_ROWS) kept[r] = 1;
  }
  const blocks = valueBlocks(sharedSize(manifest), manifest, rowCount > 0 ? kept : undefined);
  let values = 0;
  for (let b = 0; b < blocks.length; b++) values += blocks[b]!;
  const keptCount = kept.reduce((n, x) => n + x, 0);
  const bitmap = align4(Math.ceil(rowCount / 8));
  return align4(align4(4 + HEADER_ALLOWANCE) + bitmap + encodedSize(compression, values, blocks)) + 4 * keptCount;
}

/** The padded size of an update of `length` bytes: the smallest B·2^k that holds it. */
export function paddedSize(length: number, bucket: number): number {
  let size = bucket;
  while (size < length) size *= 2;
  return size;
}

/** The values a sparse update carries: every non-table segment, then each kept row, in body order. */
function packValues(p: UpdatePayload, m: WeightManifest, kept: Uint8Array): Float32Array {
  const { segments } = rowLayout(m);
  let count = 0;
  let r = 0;
  for (const seg of segments) {
    if (!seg.table) count += seg.size;
    else for (let row = 0; row < seg.table.rows; row++, r++) if (kept[r]) count += seg.table.cols;
  }
  const out = new Float32Array(count);
  let w = 0;
  r = 0;
  for (const seg of segments) {
    if (!seg.table) {
      out.set(p.delta.subarray(seg.offset, seg.offset + seg.size), w);
      w += seg.size;
      continue;
    }
    for (let row = 0; row < seg.table.rows; row++, r++) {
      if (!kept[r]) continue;
      const start = seg.offset + row * seg.table.cols;
      out.set(p.delta.subarray(start, start + seg.table.cols), w);
      w += seg.table.cols;
    }
  }
  return out;
}

/**
 * Layout: u32 header length, JSON header, zero padding to 4 bytes, [the row bitmap, padded to 4],
 * the delta values (float32, or the header's encoding), zero padding to 4, the row weights (float32).
 * Given the manifest, rows of rowwise tables that the client never touched (zero weight, zero delta)
 * are left out behind the bitmap: lossless, and no more revealing than the zeros a dense delta carries.
 * Padded (the default with the manifest), an update is always sparse and carries at most PADDED_ITEM_ROWS
 * rows of each table (lossy only past that budget). With `compression` fp16 or int8 the delta values are
 * quantized (lossy). What either loses, the SDK keeps and adds to its next delta (client-sdk/error-feedback.ts).
 */
export function encodeUpdatePayload(p: UpdatePayload, manifest?: WeightManifest, options: UpdateEncodeOptions = {}): Uint8Array {
  const codec = options.compression ?? 'none';
  // Zero padding after the content (see PADDED_ITEM_ROWS): only with the manifest, which fixes the bucket.
  const pad = manifest !== undefined && options.pad !== false;
  const sparseFits =
    manifest && p.rowWeights && p.rowWeights.length > 0 && p.rowWeights.length === rowWeightsSize(manifest) && p.delta.length === sharedSize(manifest);
  let kept: Uint8Array | undefined;
  if (sparseFits) {
    // Padded: always sparse and within the row budget, so the content never outgrows the bucket.
    const k = keptRows(p, rowLayout(manifest).tables, pad ? PADDED_ITEM_ROWS : Infinity);
    const keptCount = k.reduce((n, x) => n + x, 0);
    if (pad || keptCount < SPARSE_WHEN_KEPT_BELOW * k.length) kept = k;
  }
  const allRows = p.rowWeights ?? new Float32Array(0);
  const values = kept ? packValues(p, manifest!, kept) : p.delta;
  const rows = kept ? allRows.filter((_, i) => kept[i] === 1) : allRows;
  const blocks = valueBlocks(p.delta.length, manifest, kept);
  const encodedValues = encodeValues(values, blocks, codec);

  const header: Header = {
    numExamples: p.numExamples,
    metrics: p.metrics,
    deltaLength: p.delta.length,
    rowWeightsLength: allRows.length,
    ...(kept ? { sparseRows: true } : {}),
    ...(codec !== 'none' ? { encoding: codec } : {}),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align4(4 + headerBytes.length);
  const bitmapBytes = kept ? align4(Math.ceil(kept.length / 8)) : 0;
  const rowsStart = align4(dataStart + bitmapBytes + encodedValues.length);
  const contentLength = rowsStart + 4 * rows.length;
  const bucket = pad ? paddedBucketBytes(manifest, codec) : contentLength;
  if (kept && pad && contentLength > bucket) {
    // Only a header past HEADER_ALLOWANCE gets here (the rows are within the budget): its size would stand out.
    throw new RangeError(`update header of ${headerBytes.length} bytes leaves the run's size bucket (room for ${HEADER_ALLOWANCE}): send fewer metrics`);
  }
  const length = pad ? paddedSize(contentLength, bucket) : contentLength;
  const spare = options.spare ?? 0;
  if (!(Number.isInteger(spare) && spare >= 0)) throw new RangeError(`spare must be a whole number of bytes, got ${spare}`);
  const out = new Uint8Array(new ArrayBuffer(length + spare), 0, length);
  new DataView(out.buffer).setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  if (kept) {
    const bitmap = out.subarray(dataStart, dataStart + bitmapBytes);
    for (let i = 0; i < kept.length; i++) if (kept[i]) bitmap[i >> 3]! |= 1 << (i & 7);
  }
  out.set(encodedValues, dataStart + bitmapBytes);
  new Float32Array(out.buffer, rowsStart, rows.length).set(rows);
  return out;
}

function readHeader(bytes: Uint8Array, bad: (why: string) => ProtocolError): { header: Header; dataStart: number } {
  if (bytes.length < 4) throw bad('too short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.length) throw bad('bad header length');
  try {
    const header = headerSchema.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))));
    return { header, dataStart: align4(4 + headerLength) };
  } catch (err) {
    throw bad(`header: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * An update is its content, exactly, or its content followed by zero padding up to its size bucket (which
 * needs the manifest). Whether padding was required is the coordinator's check (isPaddedUpdate).
 */
function checkPadding(
  bytes: Uint8Array,
  contentLength: number,
  manifest: WeightManifest | undefined,
  codec: Compression,
  bad: (why: string) => ProtocolError,
): void {
  if (bytes.length === contentLength) return;
  if (bytes.length < contentLength) throw bad(`expected ${contentLength} bytes, got ${bytes.length}`);
  const padded = manifest ? paddedSize(contentLength, paddedBucketBytes(manifest, codec)) : contentLength;
  if (bytes.length !== padded) throw bad(`update is ${bytes.length} bytes: its content is ${contentLength}, padded to its size bucket ${padded}`);
  for (let i = contentLength; i < bytes.length; i++) if (bytes[i] !== 0) throw bad('non-zero bytes in the padding');
}

/**
 * True when an update's length is the run's size bucket B (see PADDED_ITEM_ROWS): what every sparse update of a
 * padding device is. The coordinator refuses a sparse plain update of any other size (its size would tell its
 * row count).
 */
export function isPaddedUpdate(length: number, manifest: WeightManifest, compression: Compression = 'none'): boolean {
  return length === paddedBucketBytes(manifest, compression);
}

/**
 * The coordinator's size check on an opened plain update: a sparse one must be exactly the run's bucket, since
 * any other length would tell a wire observer something about how many item rows the device touched
 * (INVALID_PAYLOAD otherwise). A dense one may come unpadded: every dense update of a run carries every row.
 */
export function checkUpdatePadding(bytes: Uint8Array, manifest: WeightManifest, compression: Compression = 'none'): void {
  const bad = (why: string) => new ProtocolError('INVALID_PAYLOAD', `malformed update: ${why}`);
  const { header } = readHeader(bytes, bad);
  const codec = header.encoding ?? compression;
  if (header.sparseRows && !isPaddedUpdate(bytes.length, manifest, codec)) {
    throw new ProtocolError(
      'INVALID_PAYLOAD',
      `sparse update refused: ${bytes.length} bytes, where every sparse update of this run is ${paddedBucketBytes(manifest, codec)} bytes (at most ${PADDED_ITEM_ROWS} rows of each item table, zero-padded); another size would tell how many item rows the device touched`,
    );
  }
}

/** Unpacks a sparse update's values into the dense delta; left-out rows stay zero. */
function scatter(values: Float32Array, m: WeightManifest, isKept: (r: number) => number, delta: Float32Array): void {
  let at = 0;
  let r = 0;
  for (const seg of rowLayout(m).segments) {
    if (!seg.table) {
      delta.set(values.subarray(at, at + seg.size), seg.offset);
      at += seg.size;
      continue;
    }
    for (let row = 0; row < seg.table.rows; row++, r++) {
      if (!isKept(r)) continue;
      delta.set(values.subarray(at, at + seg.table.cols), seg.offset + row * seg.table.cols);
      at += seg.table.cols;
    }
  }
}

/**
 * Decodes any encoding; a sparse one needs the manifest it was encoded against. With `expected`,
 * an update whose values are encoded otherwise is refused (WRONG_ENCODING) before anything is read.
 * `adopt`: the caller hands `bytes` over (a plaintext it decrypted and drops after this), so a dense float32
 * delta may be a view of them instead of a copy (compression.ts's decodeValues).
 */
export function decodeUpdatePayload(bytes: Uint8Array, manifest?: WeightManifest, expected?: Compression, adopt = false): UpdatePayload {
  const bad = (why: string) => new ProtocolError('INVALID_PAYLOAD', `malformed update: ${why}`);
  const { header, dataStart } = readHeader(bytes, bad);
  const codec = header.encoding ?? 'none';
  if (expected !== undefined && codec !== expected) {
    throw new ProtocolError('WRONG_ENCODING', `update values are encoded as ${codec}, this run takes ${expected}`);
  }
  let kept: Uint8Array | undefined;
  let bitmapBytes = 0;
  if (header.sparseRows) {
    if (!manifest) throw bad('a sparse update needs the manifest to decode');
    if (header.deltaLength !== sharedSize(manifest) || header.rowWeightsLength !== rowWeightsSize(manifest) || header.rowWeightsLength === 0) {
      throw new ProtocolError('MANIFEST_MISMATCH', 'sparse update lengths do not match the manifest');
    }
    bitmapBytes = align4(Math.ceil(header.rowWeightsLength / 8));
    if (dataStart + bitmapBytes > bytes.length) throw bad('truncated row bitmap');
    const bitmap = bytes.subarray(dataStart, dataStart + bitmapBytes);
    kept = new Uint8Array(header.rowWeightsLength);
    for (let i = 0; i < kept.length; i++) kept[i] = (bitmap[i >> 3]! >> (i & 7)) & 1;
  }
  const blocks = valueBlocks(header.deltaLength, manifest, kept);
  let valueCount = 0;
  for (let b = 0; b < blocks.length; b++) valueCount += blocks[b]!;
  const keptCount = kept ? kept.reduce((n, x) => n + x, 0) : header.rowWeightsLength;
  const valuesStart = dataStart + bitmapBytes;
  const valuesEnd = valuesStart + encodedSize(codec, valueCount, blocks);
  const rowsStart = align4(valuesEnd);
  const expectedLength = rowsStart + 4 * keptCount;
  checkPadding(bytes, expectedLength, manifest, codec, bad);
  let values: Float32Array;
  try {
    // A sparse update's values are scattered into a fresh delta below: a view of them is all it needs.
    values = decodeValues(bytes.subarray(valuesStart, valuesEnd), valueCount, blocks, codec, adopt || kept !== undefined);
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
  const rows = bytesToFloat32(bytes.subarray(rowsStart, expectedLength));
  if (!kept) {
    const payload: UpdatePayload = { numExamples: header.numExamples, metrics: header.metrics, delta: values };
    if (header.rowWeightsLength > 0) payload.rowWeights = rows;
    return payload;
  }
  const delta = new Float32Array(header.deltaLength);
  scatter(values, manifest!, (r) => kept[r]!, delta);
  const rowWeights = new Float32Array(header.rowWeightsLength);
  let at = 0;
  for (let i = 0; i < rowWeights.length; i++) if (kept[i]) rowWeights[i] = rows[at++]!;
  return { numExamples: header.numExamples, metrics: header.metrics, delta, rowWeights };
}
