import { ncfDefinition } from './ncf/definition.js';

/** MLP (He et al. 2017): ReLU tower over [user, item] embeddings. */
export const mlpModel = ncfDefinition('mlp');
