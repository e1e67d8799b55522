import { ncfEntry } from './ncf/entry.js';

/** GMF (He et al. 2017): logit = w · (user ⊙ item) + b. */
export const gmf = ncfEntry('gmf');
export const gmfModel = gmf.definition;
