// Side-effect module: registers the built-in layers builders with the default registry.
import { registerLayersBuilder } from './builder-registry.js';
import { logisticLayersBuilder } from './builders/logistic.js';

registerLayersBuilder(logisticLayersBuilder);
