import { z } from 'zod';
import { bytesToFloat32 } from './binary.js';
import { ProtocolError } from './errors.js';

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
  deltaLength: z.number().int().min(0),
  rowWeightsLength: z.number().int().min(0),
});

const MAX_HEADER_BYTES = 64 * 1024;

/** Layout: u32 header length, JSON header, zero padding to 4 bytes, delta floats, row-weight floats. */
export function encodeUpdatePayload(p: UpdatePayload): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      numExamples: p.numExamples,
      metrics: p.metrics,
      deltaLength: p.delta.length,
      rowWeightsLength: p.rowWeights?.length ?? 0,
    }),
  );
  const headerEnd = 4 + header.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const rows = p.rowWeights ?? new Float32Array(0);
  const out = new Uint8Array(dataStart + 4 * (p.delta.length + rows.length));
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(p.delta.buffer, p.delta.byteOffset, p.delta.byteLength), dataStart);
  out.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), dataStart + p.delta.byteLength);
  return out;
}

export function decodeUpdatePayload(bytes: Uint8Array): UpdatePayload {
  const bad = (why: string) => new ProtocolError('INVALID_PAYLOAD', `malformed update: ${why}`);
  if (bytes.length < 4) throw bad('too short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.length) throw bad('bad header length');
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))));
  } catch (err) {
    throw bad(`header: ${err instanceof Error ? err.message : String(err)}`);
  }
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4;
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
