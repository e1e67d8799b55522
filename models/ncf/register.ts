import { gmfModel } from '../gmf.js';
import { mfModel } from '../mf.js';
import { mlpModel } from '../mlp.js';
import { neumfModel } from '../neumf.js';
import { registerModel } from '../registry.js';

export const recommendationModels = [mfModel, gmfModel, mlpModel, neumfModel];

/** Registers mf, gmf, mlp and neumf with the model registry. */
export function registerRecommendationModels(): void {
  for (const def of recommendationModels) registerModel(def);
}
