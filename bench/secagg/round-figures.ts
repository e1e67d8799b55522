/** What one benchmarked round reports, whichever harness ran it. */
export interface RoundFigures {
  /** Why the round was abandoned (secure aggregation), or undefined when it completed. */
  abandoned?: string;
  /** The round's critical path: Σ over stages of (slowest client + coordinator). */
  criticalMs: number;
  /**
   * Per stage: slowest client's and the coordinator's compute, and the median client's where the harness times
   * clients one by one (the slowest also absorbs any collection of the simulated population's shared heap).
   */
  stages: Record<string, { clientMaxMs: number; serverMs: number; clientMedianMs?: number }>;
  /**
   * The round as the SDK schedules it (client-sdk/secagg-participant.ts): a device starts training with stage 0 and
   * trains on its main thread; the roster checks and opening the forwarded shares run on that thread between training
   * steps, the share job and the mask job on its mask worker. Once training is at least `trainingAtLeastMs` (the first
   * two stages' critical path plus the slowest client's receiveShares), what the round adds after training is `ms`: the
   * slowest device's main-thread work before its input (advertise + share keys + opening + quantizing and masking, each
   * client's own sum) + the coordinator's masked-input stage + the unmask stage (slowest client + coordinator). Plain's
   * round after training is its critical path. Undefined where the harness does not time the parts apart (plain,
   * in-process).
   */
  scheduled?: { ms: number; trainingAtLeastMs: number };
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

/**
 * A secagg stage message as it travels, packed into one attachment (protocol/packed.ts: each Uint8Array becomes
 * { "$bytes": [offset, length] } into one blob): the same count as wireBytes(pack(v)), without building the blob.
 * Why: pack copies every byte field (a 400 KB masked input, a correction), and that garbage, made between the
 * timed steps, would be collected inside the next coordinator step.
 */
export function packedBytes(v: unknown): number {
  if (v === null || v === undefined) return 0;
  let blob = 0;
  const walk = (x: unknown): unknown => {
    if (x instanceof Uint8Array) {
      const ref = { $bytes: [blob, x.byteLength] };
      blob += x.byteLength;
      return ref;
    }
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  const json = walk(v);
  return JSON.stringify({ json, blob: { _placeholder: true, num: 0 } }).length + blob;
}

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

/**
 * The shortest training, in ms and the same in both modes, from which a secure round with its training is at most `aim`
 * times plain's with the same training. Plain's round is T + P: it uploads after training (P: its critical path). The
 * secure round as the SDK schedules it is at most max(T, N) + S (N: `trainingAtLeastMs`, the protocol's work that runs
 * while the device trains; S: `ms`, what comes after training, whose main-thread part also counts work done within N,
 * so the sum errs long and the training returned errs long with it). The ratio falls as T grows, so the answer is where
 * it crosses `aim`: below N, (N + S) / (T + P) = aim; above N, (T + S) / (T + P) = aim. Why print it: the two
 * round-time columns leave training out of both modes (T = 0 for "round vs plain", T ≥ N for "as the SDK schedules
 * it"), and a real device's training lies somewhere between; this says from which training on the aim holds, on the
 * figures of this run.
 */
export function trainingForAim(scheduled: { ms: number; trainingAtLeastMs: number }, plainMs: number, aim = 2): number {
  const { ms: s, trainingAtLeastMs: n } = scheduled;
  const early = (n + s) / aim - plainMs;
  if (early <= n) return Math.max(0, early);
  return (s - aim * plainMs) / (aim - 1);
}
