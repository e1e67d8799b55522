import { joinShared, type Weights } from '@fedrec/protocol';
import { SeededRandom } from '../random.js';
import { S, seqManifest, seqStateTensors, type SeqArch } from './arch.js';

/**
 * Fresh shared weights, reproducible from the seed: normal item embeddings, position weights 1
 * (h starts as the sum of the recent items), the head at identity (W = 0, c = 0), biases 0, and the
 * long-term weight 1 (the long-term term starts as large as one item's embedding), and the attention's
 * A at I / initStd² (attentionInit) and its position embeddings at 0.
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
    ...(a.longTerm ? ([[S.longW, Float32Array.of(1)]] as Array<[string, Float32Array]>) : []),
    ...(a.attention
      ? ([
          [S.attnQ, attentionInit(a)],
          [S.attnPos, new Float32Array(a.seqLen * a.dim)],
        ] as Array<[string, Float32Array]>)
      : []),
  ]);
  return { manifest, body: joinShared(manifest, tensors) };
}

/**
 * The attention's A at init: I / initStd², so the scores q·e_l/√dim start as they would for unit-variance
 * embeddings (what SASRec's layer norm gives its queries and keys): the latest item and the items like it
 * weigh most. From A = 0 (uniform weights) A's gradients, products of 0.1-scale embeddings, left the
 * pooling a plain mean through 20 rounds, and it gained nothing (README "The sequence model").
 */
function attentionInit(a: SeqArch): Float32Array {
  const out = new Float32Array(a.dim * a.dim);
  for (let i = 0; i < a.dim; i++) out[i * a.dim + i] = 1 / (a.initStd * a.initStd);
  return out;
}

/** The last n items of a time-ordered history, most recent first (-1 empty). */
function lastItems(n: number, history: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n).fill(-1);
  for (let l = 0; l < n && l < history.length; l++) out[l] = history[history.length - 1 - l]!;
  return out;
}

/** The last L items of a time-ordered history, most recent first, as the private state tensor. */
export function recentOf(a: SeqArch, history: ArrayLike<number>): Float32Array {
  return lastItems(a.seqLen, history);
}

/** Every private state tensor of a history (the recent items; the long-term history when the arch has it). */
export function seqStateOf(a: SeqArch, history: ArrayLike<number>): Map<string, Float32Array> {
  return new Map(seqStateTensors(a).map(([name, n]) => [name, lastItems(n, history)]));
}
