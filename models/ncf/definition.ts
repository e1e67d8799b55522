import type { ModelDefinition } from '../registry.js';
import { ncfArch, ncfManifest, type NcfKind } from './arch.js';
import { ncfInitialWeights } from './init.js';

export function ncfDefinition(kind: NcfKind): ModelDefinition {
  return {
    name: kind,
    manifest: (options) => ncfManifest(ncfArch(kind, options)),
    initialWeights: (options, seed) => ncfInitialWeights(ncfArch(kind, options), seed),
  };
}
