// Side-effect module: registers the built-in model definitions (pure JS, no tfjs), so a
// coordinator can create and aggregate them. Import once at an entry point.
import { logisticModel } from './logistic.js';
import { registerRecommendationModels } from './ncf/register.js';
import { registerModel } from './registry.js';

registerModel(logisticModel);
registerRecommendationModels();
