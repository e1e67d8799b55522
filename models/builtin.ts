import { gmf } from './gmf.js';
import { logistic } from './logistic.js';
import { mf } from './mf.js';
import { mlp } from './mlp.js';
import type { ModelEntry } from './model-entry.js';
import { neumf } from './neumf.js';
import { seq } from './seq/entry.js';

/** The models every registry starts with unless given others: one line per model. */
export const builtinModels: readonly ModelEntry[] = [logistic, mf, gmf, mlp, neumf, seq];
