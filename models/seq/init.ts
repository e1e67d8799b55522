import { joinShared, type Weights } from '@fedrec/protocol';
import { SeededRandom } from '../random.js';
import { S, seqManifest, type SeqArch } from './arch.js';

/**
 * Fresh shared weights, reproducible from the seed: normal item embeddings, position weights 1
 * (h starts as the sum of the recent items), the head at identity (W = 0, c = 0), biases 0.
 */
export function seqInitialWeights(a: SeqArch, seed: number): Weights {
  const manifest = seqManifest(a);
  const rng = new SeededRandom(seed);
  const normal = (size: number) => Float32Array.from({ length: size }, () => rng.normal() * a.initStd);
  const tensors = new Map<string, Float32Array>([
    [S.itemIn, normal(a.numItems * a.dim)],
    ...(a.tied ? [] : ([[S.itemOut, normal(a.numItems * a.dim)]] as Array<[string, Float32Array]>)),
    [S.itemBias, new Float32Array(a.numItems)],
    [S.pos, new Float32Array(a.seqLen).fill(1)],
    [S.headW, new Float32Array(a.dim * a.dim)],
    [S.headB, new Float32Array(a.dim)],
  ]);
  return { manifest, body: joinShared(manifest, tensors) };
}

/** An empty recent sequence (-1 marks an empty slot). */
export function emptyRecent(a: SeqArch): Float32Array {
  return new Float32Array(a.seqLen).fill(-1);
}

/** The last L items of a time-ordered history, most recent first, as the private state tensor. */
export function recentOf(a: SeqArch, history: ArrayLike<number>): Float32Array {
  const out = emptyRecent(a);
  for (let l = 0; l < a.seqLen && l < history.length; l++) out[l] = history[history.length - 1 - l]!;
  return out;
}
