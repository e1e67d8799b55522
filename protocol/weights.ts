import { z } from 'zod';
import { binarySchema, bytesToFloat32, float32ToBytes } from './binary.js';
import { compressionSchema, decodeValues, encodeValues, type Compression } from './compression.js';

/** Hard limits that keep a hostile manifest from asking for absurd allocations. */
export const MAX_TENSORS = 256;
export const MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024;

export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(200),
  shape: z.array(z.number().int().min(0).max(MAX_TENSOR_ELEMENTS)).max(8),
  dtype: z.literal('float32'),
  /** Shared tensors are federated; private ones never leave the device. */
  shared: z.boolean(),
  /** For shared 2-D tables (embeddings): the delta carries one weight per row, averaged row by row. */
  rowwise: z.boolean().optional(),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

export const manifestSchema = z.object({ tensors: z.array(tensorSpecSchema).max(MAX_TENSORS) }).superRefine((m, ctx) => {
  const names = new Set<string>();
  for (const t of m.tensors) {
    if (names.has(t.name)) ctx.addIssue({ code: 'custom', message: `duplicate tensor name ${t.name}` });
    names.add(t.name);
    if (t.rowwise && (!t.shared || t.shape.length !== 2)) {
      ctx.addIssue({ code: 'custom', message: `rowwise tensor ${t.name} must be shared and 2-D` });
    }
  }
});
export type WeightManifest = z.infer<typeof manifestSchema>;

export function tensorSize(t: TensorSpec): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

export function sharedTensors(m: WeightManifest): TensorSpec[] {
  return m.tensors.filter((t) => t.shared);
}

/** Number of floats in a body: the shared tensors, concatenated in manifest order. */
export function sharedSize(m: WeightManifest): number {
  return sharedTensors(m).reduce((n, t) => n + tensorSize(t), 0);
}

/** Number of row weights a delta carries: shape[0] of every rowwise tensor, in manifest order. */
export function rowWeightsSize(m: WeightManifest): number {
  return sharedTensors(m).reduce((n, t) => n + (t.rowwise ? (t.shape[0] ?? 0) : 0), 0);
}

/** Where each shared tensor sits in the flat body. */
export function sharedLayout(m: WeightManifest): Array<{ spec: TensorSpec; offset: number; size: number }> {
  let offset = 0;
  return sharedTensors(m).map((spec) => {
    const size = tensorSize(spec);
    const entry = { spec, offset, size };
    offset += size;
    return entry;
  });
}

/** Two manifests describe the same shared body (names, shapes, order, rowwise flags). */
export function sameSharedLayout(a: WeightManifest, b: WeightManifest): boolean {
  const sa = sharedTensors(a);
  const sb = sharedTensors(b);
  if (sa.length !== sb.length) return false;
  return sa.every((t, i) => {
    const u = sb[i]!;
    return t.name === u.name && !!t.rowwise === !!u.rowwise && t.shape.length === u.shape.length && t.shape.every((d, j) => d === u.shape[j]);
  });
}

/** The global model's shared weights: what the coordinator owns and broadcasts. */
export interface Weights {
  manifest: WeightManifest;
  /** Shared tensors only, concatenated in manifest order. */
  body: Float32Array;
}

/** The wire form: a JSON manifest plus one binary attachment (never a JSON array of numbers). */
export interface WireWeights {
  manifest: WeightManifest;
  body: Uint8Array;
  /** How the body is encoded (protocol/compression.ts); absent means float32 ('none'). */
  encoding?: Compression | undefined;
}

export const wireWeightsSchema = z.object({ manifest: manifestSchema, body: binarySchema, encoding: compressionSchema.optional() });

/**
 * The int8 scale blocks of a shared body: one per row of every 2-D shared tensor (an embedding
 * table's rows have very different ranges), one per tensor otherwise.
 */
export function bodyBlocks(m: WeightManifest): Uint32Array {
  // Sized first and filled per tensor: on a large catalogue this runs for every model decoded, and
  // pushing one number per item row into a JS array cost more than the decode itself.
  const tensors = sharedLayout(m)
    .filter(({ size }) => size > 0)
    .map(({ spec, size }) => {
      const rows = spec.shape.length === 2 ? (spec.shape[0] ?? 0) : 1;
      return { rows, cols: size / rows };
    });
  const out = new Uint32Array(tensors.reduce((n, t) => n + t.rows, 0));
  let at = 0;
  for (const { rows, cols } of tensors) {
    out.fill(cols, at, at + rows);
    at += rows;
  }
  return out;
}

/** The wire form of the weights, the body encoded with `codec` (default float32, no copy). */
export function encodeWeights(w: Weights, codec: Compression = 'none'): WireWeights {
  if (w.body.length !== sharedSize(w.manifest)) {
    throw new RangeError(`body has ${w.body.length} floats, manifest wants ${sharedSize(w.manifest)}`);
  }
  if (codec === 'none') return { manifest: w.manifest, body: float32ToBytes(w.body) };
  return { manifest: w.manifest, body: encodeValues(w.body, bodyBlocks(w.manifest), codec), encoding: codec };
}

/** Validates a wire payload and decodes the body (any encoding) into an aligned Float32Array. */
export function decodeWeights(wire: unknown): Weights {
  const parsed = wireWeightsSchema.parse(wire);
  const expected = sharedSize(parsed.manifest);
  const codec = parsed.encoding ?? 'none';
  if (codec === 'none') {
    const body = bytesToFloat32(parsed.body);
    if (body.length !== expected) throw new RangeError(`weights body has ${body.length} floats, manifest wants ${expected}`);
    return { manifest: parsed.manifest, body };
  }
  const body = decodeValues(parsed.body, expected, bodyBlocks(parsed.manifest), codec);
  for (let i = 0; i < body.length; i++) {
    if (!Number.isFinite(body[i])) throw new RangeError(`weights body value ${i} is not finite`);
  }
  return { manifest: parsed.manifest, body };
}

/** Splits a flat shared body into named tensors (views, no copy). */
export function splitShared(m: WeightManifest, body: Float32Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const { spec, offset, size } of sharedLayout(m)) out.set(spec.name, body.subarray(offset, offset + size));
  return out;
}

/** Concatenates named shared tensors into a flat body in manifest order. */
export function joinShared(m: WeightManifest, tensors: Map<string, Float32Array>): Float32Array {
  const body = new Float32Array(sharedSize(m));
  for (const { spec, offset, size } of sharedLayout(m)) {
    const t = tensors.get(spec.name);
    if (!t || t.length !== size) throw new RangeError(`tensor ${spec.name} missing or of the wrong size`);
    body.set(t, offset);
  }
  return body;
}
