// client-sdk/index.ts (not this task's file) still exports these names: they are the one model
// registry of @fedrec/models under their old names. Drop this file with those index.ts lines.
export type { BuiltLayersModel, MappedTensor, LayersEngine as LayersModelBuilder } from '@fedrec/models/layers-engine.js';
export {
  createModelRegistry as createLayersBuilderRegistry,
  defaultModelRegistry as defaultLayersBuilders,
  registerModel as registerLayersBuilder,
  type ModelRegistry as LayersBuilderRegistry,
} from '@fedrec/models/registry.js';
