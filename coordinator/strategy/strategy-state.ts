import { sharedLayout } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol';

/** A flat per-element array (shared-body order) as one Float32Array per shared manifest tensor. */
export function toTensors(manifest: WeightManifest, flat: ArrayLike<number>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const { spec, offset, size } of sharedLayout(manifest)) {
    const t = new Float32Array(size);
    for (let k = 0; k < size; k++) t[k] = flat[offset + k]!;
    out[spec.name] = t;
  }
  return out;
}

/** The inverse of toTensors; throws when a tensor is missing or has another size (a different layout). */
export function fromTensors(manifest: WeightManifest, tensors: Record<string, Float32Array> | undefined, slot: string): Float64Array {
  const layout = sharedLayout(manifest);
  const out = new Float64Array(layout.reduce((n, l) => n + l.size, 0));
  for (const { spec, offset, size } of layout) {
    const t = tensors?.[spec.name];
    if (!t || t.length !== size) throw new RangeError(`strategy state ${slot}/${spec.name}: expected ${size} values, got ${t?.length ?? 'none'}`);
    out.set(t, offset);
  }
  return out;
}
