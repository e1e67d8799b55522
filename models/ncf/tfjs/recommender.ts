import type { RecommenderEngine } from '../../recommender-engine.js';
import { ncfArch, type NcfKind } from '../arch.js';
import { ncfJsEngine } from '../engine/recommender.js';
import { fitLocalTf, scoreTf } from './local-fit.js';
import { scoreCatalogueTf } from './score-catalogue.js';

/**
 * The tfjs NCF engine on the active backend (wasm, webgl, cpu, ...): the device path. Personalization
 * (one user's rows, shared weights frozen) stays the plain-JS one: it has no tensor work worth a dispatch.
 */
export function ncfTfjsEngine(kind: NcfKind): RecommenderEngine {
  return {
    ...ncfJsEngine(kind),
    fit: (options, shared, priv, plan, o) => fitLocalTf(ncfArch(kind, options), shared, priv, plan, o),
    score: (options, shared, priv, items) => scoreTf(ncfArch(kind, options), shared, priv, items),
    scoreAll: (options, shared, priv) => scoreCatalogueTf(ncfArch(kind, options), shared, priv),
  };
}
