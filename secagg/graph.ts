import { wordsOfLittleEndian } from './bytes.js';
import { chacha20Keystream } from './prg.js';

const GRAPH_NONCE = new TextEncoder().encode('fedrec-graph'); // 12 bytes: separates graph randomness from masks

/** Fisher–Yates shuffle of the roster driven by ChaCha20(seed), with rejection sampling (no modulo bias). */
export function seededPermutation(ids: readonly string[], seed: Uint8Array): string[] {
  const out = [...ids];
  let words: Uint32Array = new Uint32Array(0);
  let at = 0;
  let block = 0;
  const next = (): number => {
    if (at >= words.length) {
      const bytes = chacha20Keystream(seed, GRAPH_NONCE, 4096, block);
      block += 4096 / 64;
      words = wordsOfLittleEndian(bytes);
      at = 0;
    }
    return words[at++]!;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = Math.floor(2 ** 32 / bound) * bound;
    let r = next();
    while (r >= limit) r = next();
    const j = r % bound;
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Neighbours in a k-regular Harary circulant over the seeded permutation of the roster:
 * position p links to p±1 … p±k/2. With k ≥ n-1 it is the complete graph (plain SecAgg).
 * Returns each client's neighbours sorted by id.
 */
export function neighbourGraph(roster: readonly string[], k: number, seed: Uint8Array): Map<string, string[]> {
  const n = roster.length;
  const graph = new Map<string, string[]>();
  if (k >= n - 1) {
    for (const id of roster) graph.set(id, roster.filter((o) => o !== id).sort());
    return graph;
  }
  if (k % 2 !== 0) throw new RangeError(`a circulant graph needs an even degree, got ${k}`);
  const order = seededPermutation([...roster].sort(), seed);
  order.forEach((id, p) => graph.set(id, circulantPeers(order, p, k)));
  return graph;
}

/**
 * One client's neighbours in the same graph (sorted by id), without building everyone's lists: what a client
 * checks its roster against. Equal to neighbourGraph(roster, k, seed).get(id) (graph.test.ts compares them).
 */
export function neighboursOfClient(roster: readonly string[], k: number, seed: Uint8Array, id: string): string[] {
  const n = roster.length;
  if (!roster.includes(id)) return [];
  if (k >= n - 1) return roster.filter((o) => o !== id).sort();
  if (k % 2 !== 0) throw new RangeError(`a circulant graph needs an even degree, got ${k}`);
  const order = seededPermutation([...roster].sort(), seed);
  return circulantPeers(order, order.indexOf(id), k);
}

function circulantPeers(order: readonly string[], p: number, k: number): string[] {
  const n = order.length;
  const peers: string[] = [];
  for (let d = 1; d <= k / 2; d++) peers.push(order[(p + d) % n]!, order[(p - d + n) % n]!);
  return peers.sort();
}
