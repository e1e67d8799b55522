import { ncfDefinition } from './ncf/definition.js';

/** Matrix factorisation: logit = user · item + item bias (private user row, shared rowwise item table). */
export const mfModel = ncfDefinition('mf');
