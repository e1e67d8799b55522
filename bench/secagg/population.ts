/**
 * The benchmark's simulated population, derived per client from its index alone, so a worker thread hosting some
 * clients and the main thread checking the aggregate compute the same deltas without shipping them (1,000 clients ×
 * 100k floats would be 400 MB to copy between heaps).
 */

/** Client i's id: zero-padded so the roster's string order is the index order. */
export const clientId = (i: number): string => `client-${String(i).padStart(4, '0')}`;

/** A small LCG seeded by (population seed, client index): deterministic, cheap, and good enough for test data. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Client i's training result: 1..200 examples and a delta of `params` values in ±0.05, written into `into` when
 * given (callers that go through the population one client at a time reuse one buffer rather than make 400 KB of
 * garbage per client between timed steps).
 */
export function clientContribution(seed: number, i: number, params: number, into?: Float32Array): { numExamples: number; delta: Float32Array } {
  const rand = lcg(Math.imul(seed + 1, 2654435761) ^ Math.imul(i + 1, 40503));
  const numExamples = 1 + Math.floor(rand() * 200);
  const delta = into ?? new Float32Array(params);
  for (let j = 0; j < params; j++) delta[j] = (rand() - 0.5) * 0.1;
  return { numExamples, delta };
}

/** The exact example-weighted mean of the clients `indices`, regenerated one client at a time. */
export function expectedMean(seed: number, indices: Iterable<number>, params: number): Float64Array {
  const sum = new Float64Array(params);
  let w = 0;
  const scratch = new Float32Array(params);
  for (const i of indices) {
    const c = clientContribution(seed, i, params, scratch);
    w += c.numExamples;
    for (let j = 0; j < params; j++) sum[j]! += c.numExamples * c.delta[j]!;
  }
  return sum.map((x) => x / w);
}
