import { z } from 'zod';
import { ERROR_CODES, trainingConfigSchema } from '@fedrec/protocol';
import type { AggregateSums } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { FitCollection } from '../fit-collector.js';
import type { ObservedNorms } from './recording-policy.js';

/** What the leader asks another node to collect: its own clients' fit tasks for one round. */
export const fitOrderSchema = z.object({
  orderId: z.string().min(1),
  leader: z.string().min(1),
  roundId: z.number().int().min(0),
  modelVersion: z.number().int().min(0),
  deadline: z.number(),
  limits: z.object({ maxUpdateBytes: z.number(), maxExamplesPerUpdate: z.number(), maxMetricKeys: z.number().optional() }),
  assignments: z.array(z.object({ clientId: z.string().min(1), taskId: z.string().min(1), config: trainingConfigSchema })),
});
export type FitOrder = z.infer<typeof fitOrderSchema>;

const failureCodes = [...ERROR_CODES, 'TIMEOUT', 'DISCONNECTED', 'ABORTED'] as const;

const headerSchema = z.object({
  orderId: z.string().min(1),
  nodeId: z.string().min(1),
  weightSum: z.number().finite().min(0),
  contributors: z.number().int().min(0),
  deltaLength: z.number().int().min(0),
  rowLength: z.number().int().min(0),
  accepted: z.array(z.string()),
  failures: z.array(
    z.object({ clientId: z.string(), taskId: z.string(), phase: z.enum(['fit', 'evaluate']), code: z.enum(failureCodes), message: z.string() }),
  ),
  metrics: z.record(z.string(), z.number()),
  clipped: z.number().int().min(0),
  weightCapped: z.number().int().min(0),
  /** The update policy's observations (recording-policy.ts): pre-clip norms and weights per update, row norms. */
  observed: z
    .object({
      norms: z.array(z.number().finite().min(0)),
      weights: z.array(z.number().finite().positive()),
      rowNorms: z.array(z.number().finite().min(0)),
    })
    .optional(),
});

/** One node's share of a round: its clients' sums and verdicts, sent to the leader. */
export interface PartialCollection {
  orderId: string;
  nodeId: string;
  collection: FitCollection;
  /** What the node's updates added to the norm-bound history (the leader merges it: one shared bound). */
  observed?: ObservedNorms;
}

/** A 4-byte header length, the JSON header, then Σ weight·Δ and Σ w_ir as raw float64 (exact: sums stay float64). */
export function encodePartial(p: PartialCollection): Buffer {
  const { sums } = p.collection;
  const header = Buffer.from(
    JSON.stringify({
      orderId: p.orderId,
      nodeId: p.nodeId,
      weightSum: sums.weightSum,
      contributors: sums.contributors,
      deltaLength: sums.weightedDeltaSum.length,
      rowLength: sums.rowWeightSums.length,
      accepted: p.collection.accepted,
      failures: p.collection.failures,
      metrics: p.collection.metrics,
      clipped: p.collection.clipped ?? 0,
      weightCapped: p.collection.weightCapped ?? 0,
      ...(p.observed ? { observed: p.observed } : {}),
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([length, header, bytes(sums.weightedDeltaSum), bytes(sums.rowWeightSums)]);
}

/** Parses and checks a partial; throws RangeError on anything malformed (another node is trusted less than memory). */
export function decodePartial(buf: Buffer): PartialCollection {
  if (buf.length < 4) throw new RangeError('partial too short');
  const headerLength = buf.readUInt32LE(0);
  if (4 + headerLength > buf.length) throw new RangeError('partial header overruns');
  const header = headerSchema.parse(JSON.parse(buf.subarray(4, 4 + headerLength).toString('utf8')));
  const bodyAt = 4 + headerLength;
  if (buf.length !== bodyAt + 8 * (header.deltaLength + header.rowLength)) throw new RangeError('partial body has the wrong length');
  // Copy before reinterpreting: the Buffer is a view at an unaligned offset.
  const floats = (at: number, n: number): Float64Array => {
    const out = new Float64Array(n);
    new Uint8Array(out.buffer).set(buf.subarray(at, at + 8 * n));
    return out;
  };
  const sums: AggregateSums = {
    weightedDeltaSum: floats(bodyAt, header.deltaLength),
    rowWeightSums: floats(bodyAt + 8 * header.deltaLength, header.rowLength),
    weightSum: header.weightSum,
    contributors: header.contributors,
  };
  const failures: Failure[] = header.failures;
  return {
    orderId: header.orderId,
    nodeId: header.nodeId,
    collection: { sums, accepted: header.accepted, failures, metrics: header.metrics, clipped: header.clipped, weightCapped: header.weightCapped },
    ...(header.observed ? { observed: header.observed } : {}),
  };
}
