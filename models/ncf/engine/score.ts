import type { NcfArch } from '../arch.js';
import { gatherLocalParams } from './local-fit.js';
import { NcfNet } from './net.js';

/** Logits of one user (its private rows) against the given items under the shared weights. */
export function scoreItemsJs(a: NcfArch, shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: ArrayLike<number>): Float32Array {
  const local = Int32Array.from(items as ArrayLike<number>);
  const net = new NcfNet(a, gatherLocalParams(a, shared, priv, local), 1, local.length);
  const out = new Float32Array(local.length);
  for (let k = 0; k < local.length; k++) out[k] = net.forward(0, k);
  return out;
}
