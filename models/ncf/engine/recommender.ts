import type { RecommenderEngine } from '../../recommender-engine.js';
import { ncfArch, type NcfKind } from '../arch.js';
import { ncfInitialPrivate } from '../init.js';
import { fitLocalJsSliced } from './local-fit.js';
import { personalizeJs } from './personalize.js';
import { scoreCatalogueJs } from './score-catalogue.js';
import { scoreItemsJs } from './score.js';

/** The plain-JS NCF engine: hand-written backprop, no tfjs (the simulation fast path). */
export function ncfJsEngine(kind: NcfKind): RecommenderEngine {
  return {
    kind: 'recommender',
    numItems: (options) => ncfArch(kind, options).numItems,
    initialPrivate: (options, seed) => ncfInitialPrivate(ncfArch(kind, options), seed),
    fit: (options, shared, priv, plan, o) => fitLocalJsSliced(ncfArch(kind, options), shared, priv, plan, o),
    score: async (options, shared, priv, items) => scoreItemsJs(ncfArch(kind, options), shared, priv, items),
    scoreAll: async (options, shared, priv) => scoreCatalogueJs(ncfArch(kind, options), shared, priv),
    personalize: async (options, shared, priv, plan, o) => personalizeJs(ncfArch(kind, options), shared, priv, plan, o).privateAfter,
  };
}
