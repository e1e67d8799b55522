import type { TensorSpec, Weights } from '@fedrec/protocol';
import { joinShared, sharedTensors } from '@fedrec/protocol';
import { SeededRandom } from '../random.js';
import { T, ncfManifest, type NcfArch } from './arch.js';

function initTensor(spec: TensorSpec, a: NcfArch, rng: SeededRandom): Float32Array {
  const size = spec.shape.reduce((x, y) => x * y, 1);
  const out = new Float32Array(size);
  if (spec.name === T.outB || spec.name === T.itemBias || spec.name.startsWith('mlp_b')) return out;
  if (spec.name.startsWith('mlp_w') || spec.name === T.outW) {
    // Glorot uniform, as Keras (and the NCF reference code) uses for dense layers.
    const [fanIn = 1, fanOut = 1] = spec.shape;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * limit;
    return out;
  }
  for (let i = 0; i < size; i++) out[i] = rng.normal() * a.initStd;
  return out;
}

/** Fresh shared weights, reproducible from the seed. */
export function ncfInitialWeights(a: NcfArch, seed: number): Weights {
  const manifest = ncfManifest(a);
  const rng = new SeededRandom(seed);
  const tensors = new Map(sharedTensors(manifest).map((s) => [s.name, initTensor(s, a, rng)]));
  return { manifest, body: joinShared(manifest, tensors) };
}

/** A device's fresh private tensors (its user embeddings), by name. */
export function ncfInitialPrivate(a: NcfArch, seed: number): Map<string, Float32Array> {
  const rng = new SeededRandom(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of ncfManifest(a).tensors.filter((t) => !t.shared)) out.set(spec.name, initTensor(spec, a, rng));
  return out;
}
