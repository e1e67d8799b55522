import { pack } from '@fedrec/protocol';

/** What one benchmarked round reports, whichever harness ran it. */
export interface RoundFigures {
  /** Why the round was abandoned (secure aggregation), or undefined when it completed. */
  abandoned?: string;
  /** The round's critical path: Σ over stages of (slowest client + coordinator). */
  criticalMs: number;
  /** Per stage: slowest client's and the coordinator's compute. */
  stages: Record<string, { clientMaxMs: number; serverMs: number }>;
  totalMs: number;
  serverMs: number;
  clientMedianMs: number;
  clientMaxMs: number;
  uploadBytes: number;
  downloadBytes: number;
  maxError: number;
}

/** Socket.IO payload size: the JSON text with each binary field as its placeholder, plus the binary bytes. */
export function wireBytes(v: unknown): number {
  let binary = 0;
  let num = 0;
  const json = JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Uint8Array) {
      binary += x.byteLength;
      return { _placeholder: true, num: num++ };
    }
    return x;
  });
  return (json?.length ?? 0) + binary;
}

/** A secagg stage message as it travels: packed into one attachment. */
export const packedBytes = (v: unknown): number => (v === null || v === undefined ? 0 : wireBytes(pack(v)));

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Σ over stages of (slowest client + coordinator): the round's compute critical path. */
export function criticalPath(stages: RoundFigures['stages']): number {
  return Object.values(stages).reduce((t, s) => t + s.clientMaxMs + s.serverMs, 0);
}
