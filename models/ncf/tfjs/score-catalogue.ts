import type { NcfArch } from '../arch.js';
import { scoreTf } from './local-fit.js';

/** Items scored per tfjs call: bounds the tensors alive at once, whatever the catalogue size. */
export const TF_SCORE_CHUNK = 65_536;

/** Logits of one user against every item with tfjs, chunk by chunk: memory linear in the chunk, time in the catalogue. */
export async function scoreCatalogueTf(a: NcfArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>): Promise<Float32Array> {
  const out = new Float32Array(a.numItems);
  const ids = new Int32Array(Math.min(TF_SCORE_CHUNK, a.numItems));
  for (let start = 0; start < a.numItems; start += ids.length) {
    const count = Math.min(ids.length, a.numItems - start);
    const chunk = ids.subarray(0, count);
    for (let k = 0; k < count; k++) chunk[k] = start + k;
    out.set(await scoreTf(a, shared, priv, chunk), start);
  }
  return out;
}
