import { ncfDefinition } from './ncf/definition.js';

/** NeuMF (He et al. 2017): GMF and MLP branches joined by one output layer. */
export const neumfModel = ncfDefinition('neumf');
