import { ncfDefinition } from './ncf/definition.js';

/** GMF (He et al. 2017): logit = w · (user ⊙ item) + b. */
export const gmfModel = ncfDefinition('gmf');
