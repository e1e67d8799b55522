import { ncfEntry } from './ncf/entry.js';

/** MLP (He et al. 2017): ReLU tower over [user, item] embeddings. */
export const mlp = ncfEntry('mlp');
export const mlpModel = mlp.definition;
