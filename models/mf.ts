import { ncfEntry } from './ncf/entry.js';

/** Matrix factorisation: logit = user · item + item bias (private user row, shared rowwise item table). */
export const mf = ncfEntry('mf');
export const mfModel = mf.definition;
