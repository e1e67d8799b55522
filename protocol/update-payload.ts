import { z } from 'zod';
import { bytesToFloat32 } from './binary.js';
import { ProtocolError } from './errors.js';
import { rowWeightsSize, sharedSize, type WeightManifest } from './weights.js';
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
});
type Header = z.infer<typeof headerSchema>;

const MAX_HEADER_BYTES = 64 * 1024;
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

function writeHeader(header: Header): { bytes: Uint8Array; dataStart: number } {
  const bytes = new TextEncoder().encode(JSON.stringify(header));
  return { bytes, dataStart: align4(4 + bytes.length) };
}

function encodeDense(p: UpdatePayload): Uint8Array {
  const rows = p.rowWeights ?? new Float32Array(0);
  const header = writeHeader({ numExamples: p.numExamples, metrics: p.metrics, deltaLength: p.delta.length, rowWeightsLength: rows.length });
  const out = new Uint8Array(header.dataStart + 4 * (p.delta.length + rows.length));
  new DataView(out.buffer).setUint32(0, header.bytes.length, true);
  out.set(header.bytes, 4);
  const floats = new Float32Array(out.buffer, header.dataStart);
  floats.set(p.delta, 0);
  floats.set(rows, p.delta.length);
  return out;
}

function encodeSparse(p: UpdatePayload, m: WeightManifest, kept: Uint8Array, keptCount: number): Uint8Array {
  const { segments: dense } = rowLayout(m);
  const header = writeHeader({ numExamples: p.numExamples, metrics: p.metrics, deltaLength: p.delta.length, rowWeightsLength: kept.length, sparseRows: true });
  const bitmapBytes = align4(Math.ceil(kept.length / 8));
  const packedDelta = dense.reduce((n, seg) => n + (seg.table ? 0 : seg.size), 0);
  let tableFloats = 0;
  let r = 0;
  for (const seg of dense) if (seg.table) for (let row = 0; row < seg.table.rows; row++, r++) if (kept[r]) tableFloats += seg.table.cols;
  const out = new Uint8Array(header.dataStart + bitmapBytes + 4 * (packedDelta + tableFloats + keptCount));
  new DataView(out.buffer).setUint32(0, header.bytes.length, true);
  out.set(header.bytes, 4);
  const bitmap = out.subarray(header.dataStart, header.dataStart + bitmapBytes);
  for (let i = 0; i < kept.length; i++) if (kept[i]) bitmap[i >> 3]! |= 1 << (i & 7);
  const floats = new Float32Array(out.buffer, header.dataStart + bitmapBytes);
  let w = 0;
  r = 0;
  for (const seg of dense) {
    if (!seg.table) {
      floats.set(p.delta.subarray(seg.offset, seg.offset + seg.size), w);
      w += seg.size;
      continue;
    }
    for (let row = 0; row < seg.table.rows; row++, r++) {
      if (!kept[r]) continue;
      const start = seg.offset + row * seg.table.cols;
      floats.set(p.delta.subarray(start, start + seg.table.cols), w);
      w += seg.table.cols;
    }
  }
  for (let i = 0; i < kept.length; i++) if (kept[i]) floats[w++] = p.rowWeights![i]!;
  return out;
}

/**
 * Layout: u32 header length, JSON header, zero padding to 4 bytes, then the floats. Given the
 * manifest, rows of rowwise tables that the client never touched (zero weight, zero delta) are
 * left out behind a bitmap: lossless, and no more revealing than the zeros a dense delta carries.
 */
export function encodeUpdatePayload(p: UpdatePayload, manifest?: WeightManifest): Uint8Array {
  const sparseFits =
    manifest && p.rowWeights && p.rowWeights.length > 0 && p.rowWeights.length === rowWeightsSize(manifest) && p.delta.length === sharedSize(manifest);
  if (!sparseFits) return encodeDense(p);
  const kept = keptRows(p, rowLayout(manifest).tables);
  const keptCount = kept.reduce((n, k) => n + k, 0);
  return keptCount < SPARSE_WHEN_KEPT_BELOW * kept.length ? encodeSparse(p, manifest, kept, keptCount) : encodeDense(p);
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

function decodeSparse(bytes: Uint8Array, header: Header, dataStart: number, m: WeightManifest | undefined, bad: (why: string) => ProtocolError): UpdatePayload {
  if (!m) throw bad('a sparse update needs the manifest to decode');
  if (header.deltaLength !== sharedSize(m) || header.rowWeightsLength !== rowWeightsSize(m) || header.rowWeightsLength === 0) {
    throw new ProtocolError('MANIFEST_MISMATCH', 'sparse update lengths do not match the manifest');
  }
  const { segments: dense } = rowLayout(m);
  const bitmapBytes = align4(Math.ceil(header.rowWeightsLength / 8));
  if (dataStart + bitmapBytes > bytes.length) throw bad('truncated row bitmap');
  const bitmap = bytes.subarray(dataStart, dataStart + bitmapBytes);
  const isKept = (i: number) => (bitmap[i >> 3]! >> (i & 7)) & 1;
  let keptCount = 0;
  let floatsNeeded = 0;
  let r = 0;
  for (const seg of dense) {
    if (!seg.table) floatsNeeded += seg.size;
    else {
      for (let row = 0; row < seg.table.rows; row++, r++) {
        if (!isKept(r)) continue;
        keptCount++;
        floatsNeeded += seg.table.cols;
      }
    }
  }
  floatsNeeded += keptCount;
  const expected = dataStart + bitmapBytes + 4 * floatsNeeded;
  if (bytes.length !== expected) throw bad(`expected ${expected} bytes, got ${bytes.length}`);
  const floats = bytesToFloat32(bytes.subarray(dataStart + bitmapBytes));
  const delta = new Float32Array(header.deltaLength);
  const rowWeights = new Float32Array(header.rowWeightsLength);
  let at = 0;
  r = 0;
  for (const seg of dense) {
    if (!seg.table) {
      delta.set(floats.subarray(at, at + seg.size), seg.offset);
      at += seg.size;
      continue;
    }
    for (let row = 0; row < seg.table.rows; row++, r++) {
      if (!isKept(r)) continue;
      delta.set(floats.subarray(at, at + seg.table.cols), seg.offset + row * seg.table.cols);
      at += seg.table.cols;
    }
  }
  for (let i = 0; i < rowWeights.length; i++) if (isKept(i)) rowWeights[i] = floats[at++]!;
  return { numExamples: header.numExamples, metrics: header.metrics, delta, rowWeights };
}

/** Decodes either encoding; a sparse one needs the manifest it was encoded against. */
export function decodeUpdatePayload(bytes: Uint8Array, manifest?: WeightManifest): UpdatePayload {
  const bad = (why: string) => new ProtocolError('INVALID_PAYLOAD', `malformed update: ${why}`);
  const { header, dataStart } = readHeader(bytes, bad);
  if (header.sparseRows) return decodeSparse(bytes, header, dataStart, manifest, bad);
  const expected = dataStart + 4 * (header.deltaLength + header.rowWeightsLength);
  if (bytes.length !== expected) throw bad(`expected ${expected} bytes, got ${bytes.length}`);
  const deltaEnd = dataStart + 4 * header.deltaLength;
  const payload: UpdatePayload = {
    numExamples: header.numExamples,
    metrics: header.metrics,
    delta: bytesToFloat32(bytes.subarray(dataStart, deltaEnd)),
  };
  if (header.rowWeightsLength > 0) payload.rowWeights = bytesToFloat32(bytes.subarray(deltaEnd, expected));
  return payload;
}
