import { ncfEntry } from './ncf/entry.js';

/** NeuMF (He et al. 2017): GMF and MLP branches joined by one output layer. */
export const neumf = ncfEntry('neumf');
export const neumfModel = neumf.definition;
