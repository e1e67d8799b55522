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
 * Padding (plain mode's sizes): with the manifest, every update is zero-padded to the run's size bucket B,
 * or to B·2, B·4, ... when it is larger, so a wire observer cannot count the item rows a device touched.
 * B is the size of a sparse update carrying PADDED_ITEM_ROWS rows of each item table (all of a smaller
 * table) plus HEADER_ALLOWANCE bytes of header: it depends only on the manifest and the run's encoding,
 * which both sides know. With ML-100K's defaults (1 epoch, 4 negatives per positive) a median user touches
 * about 5 x 65 rows per table, so 512 holds most devices in the first bucket; a heavier device lands in a
 * larger one, which says "more than 512 rows" and nothing finer. The coordinator opens the update and still
 * sees which rows carry weight: hiding them from it is secure aggregation's job (secagg+, npm start's default).
 */
export const PADDED_ITEM_ROWS = 512;
/** Room for the JSON header (example count, metrics) inside the bucket: a few metrics fit many times over. */
const HEADER_ALLOWANCE = 1024;
/** Sparse only pays when it leaves out a fair share of the rows. */
const SPARSE_WHEN_KEPT_BELOW = 0.75;

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** A row is kept when it has weight or any non-zero delta: leaving the rest out loses nothing. */
function keptRows(p: UpdatePayload, tables: RowTable[]): Uint8Array {
  const kept = new Uint8Array(p.rowWeights!.length);
  let r = 0;
  for (const t of tables) {
    for (let row = 0; row < t.rows; row++, r++) {
      if (p.rowWeights![r] !== 0) {
        kept[r] = 1;
        continue;
      }
      const start = t.offset + row * t.cols;
      for (let j = 0; j < t.cols; j++) {
        if (p.delta[start + j] !== 0) {
          kept[r] = 1;
          break;
        }
      }
    }
  }
  return kept;
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
 * With `compression` fp16 or int8 the delta values are quantized (lossy: the SDK keeps the error
 * and adds it to its next delta, client-sdk/error-feedback.ts).
 */
export function encodeUpdatePayload(p: UpdatePayload, manifest?: WeightManifest, options: UpdateEncodeOptions = {}): Uint8Array {
  const codec = options.compression ?? 'none';
  const sparseFits =
    manifest && p.rowWeights && p.rowWeights.length > 0 && p.rowWeights.length === rowWeightsSize(manifest) && p.delta.length === sharedSize(manifest);
  let kept: Uint8Array | undefined;
  if (sparseFits) {
    const k = keptRows(p, rowLayout(manifest).tables);
    const keptCount = k.reduce((n, x) => n + x, 0);
    if (keptCount < SPARSE_WHEN_KEPT_BELOW * k.length) kept = k;
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
  // Zero padding after the content (see PADDED_ITEM_ROWS): only with the manifest, which fixes the bucket.
  const pad = manifest !== undefined && options.pad !== false;
  const length = pad ? paddedSize(contentLength, paddedBucketBytes(manifest, codec)) : contentLength;
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
 * True when an update's length is a size bucket of the run (B·2^k, see PADDED_ITEM_ROWS): what a padding
 * device sends. The coordinator refuses a plain update that is not (its size would tell its row count).
 */
export function isPaddedUpdate(length: number, manifest: WeightManifest, compression: Compression = 'none'): boolean {
  const bucket = paddedBucketBytes(manifest, compression);
  return length >= bucket && paddedSize(length, bucket) === length;
}

/**
 * The coordinator's padding check on an opened plain update: a sparse one must have a bucket size, since its
 * unpadded length would tell a wire observer how many item rows the device touched (INVALID_PAYLOAD otherwise).
 * A dense one may come unpadded: every dense update of a run carries every row.
 */
export function checkUpdatePadding(bytes: Uint8Array, manifest: WeightManifest, compression: Compression = 'none'): void {
  const bad = (why: string) => new ProtocolError('INVALID_PAYLOAD', `malformed update: ${why}`);
  const { header } = readHeader(bytes, bad);
  if (header.sparseRows && !isPaddedUpdate(bytes.length, manifest, header.encoding ?? compression)) {
    throw new ProtocolError(
      'INVALID_PAYLOAD',
      `unpadded sparse update refused: ${bytes.length} bytes is not a size bucket of this run (${paddedBucketBytes(manifest, header.encoding ?? compression)} x 2^k); its size would tell how many item rows the device touched`,
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
 */
export function decodeUpdatePayload(bytes: Uint8Array, manifest?: WeightManifest, expected?: Compression): UpdatePayload {
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
    values = decodeValues(bytes.subarray(valuesStart, valuesEnd), valueCount, blocks, codec);
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
