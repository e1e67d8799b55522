import type { ModelEntry } from '../model-entry.js';
import { ncfArch, ncfManifest, type NcfKind } from './arch.js';
import { ncfInitialWeights } from './init.js';

/** One NCF variant: its definition and its two engines, plain JS first (the default) and tfjs. */
export function ncfEntry(kind: NcfKind): ModelEntry {
  return {
    definition: {
      name: kind,
      manifest: (options) => ncfManifest(ncfArch(kind, options)),
      initialWeights: (options, seed) => ncfInitialWeights(ncfArch(kind, options), seed),
    },
    engines: {
      js: { kind: 'recommender', load: async () => (await import('./engine/recommender.js')).ncfJsEngine(kind) },
      tfjs: { kind: 'recommender', load: async () => (await import('./tfjs/recommender.js')).ncfTfjsEngine(kind) },
    },
  };
}
