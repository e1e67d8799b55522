import { z } from 'zod';
import { binarySchema } from './binary.js';

/**
 * Stage messages on the wire. Socket.IO's parser refuses a packet with more than 10 binary attachments
 * (a DoS guard), and a roster carries two keys per neighbour, share messages a nonce and a ciphertext per
 * neighbour. So every byte field of a stage message travels inside one blob: `json` is the message with
 * each Uint8Array replaced by `{ "$bytes": [offset, length] }` into `blob`. Receivers unpack, then
 * validate with the stage's schema (`packedSchema(rosterSchema)` does both).
 */
export interface Packed<T> {
  json: unknown;
  blob: Uint8Array;
  /** Type-level only: what unpacking yields. */
  readonly __packs?: T;
}

const MARK = '$bytes';
const MAX_DEPTH = 16;

/** Moves every Uint8Array of `value` into one blob (copied once). */
export function pack<T>(value: T): Packed<T> {
  const parts: Uint8Array[] = [];
  let length = 0;
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new RangeError('message nested too deeply to pack');
    if (v instanceof Uint8Array) {
      parts.push(v);
      const ref = { [MARK]: [length, v.byteLength] };
      length += v.byteLength;
      return ref;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
    return v;
  };
  const json = walk(value, 0);
  const blob = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    blob.set(p, offset);
    offset += p.byteLength;
  }
  return { json, blob };
}

/** Puts the byte fields back (each a fresh, aligned Uint8Array); throws RangeError on a malformed reference. */
export function unpack(json: unknown, blob: Uint8Array): unknown {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new RangeError('packed message nested too deeply');
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v);
    if (entries.length === 1 && entries[0]![0] === MARK) {
      const ref = entries[0]![1];
      if (!Array.isArray(ref) || ref.length !== 2 || !ref.every((x) => Number.isSafeInteger(x) && x >= 0)) throw new RangeError('malformed byte reference');
      const [offset, length] = ref as [number, number];
      if (offset + length > blob.byteLength) throw new RangeError('byte reference outside the blob');
      return new Uint8Array(blob.subarray(offset, offset + length));
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(json, 0);
}

/** Validates a packed stage message: the envelope, then the unpacked message against `schema`. */
export function packedSchema<T extends z.ZodType>(schema: T) {
  return z
    .object({ json: z.unknown(), blob: binarySchema })
    .transform((p, ctx) => {
      try {
        return unpack(p.json, p.blob);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
