import { builtinModels } from './builtin.js';
import type { EngineLoader, ModelDefinition, ModelEntry } from './model-entry.js';

export type { DeviceEngine, EngineLoader, ModelDefinition, ModelEntry } from './model-entry.js';

/** Name → model (definition + device engines); a factory so tests and apps can keep their own. */
export interface ModelRegistry {
  /** Adds or replaces the model under its definition's name. */
  register(entry: ModelEntry): void;
  get(name: string): ModelEntry;
  definition(name: string): ModelDefinition;
  /** The named engine of a model, or its default (first) engine. */
  engine(name: string, engine?: string): EngineLoader;
  names(): string[];
}

export function createModelRegistry(entries: Iterable<ModelEntry> = builtinModels): ModelRegistry {
  const models = new Map<string, ModelEntry>();
  const registry: ModelRegistry = {
    register: (entry) => void models.set(entry.definition.name, entry),
    get(name) {
      const entry = models.get(name);
      if (!entry) throw new Error(`unknown model "${name}"; registered: ${[...models.keys()].join(', ') || 'none'}`);
      return entry;
    },
    definition: (name) => registry.get(name).definition,
    engine(name, engine) {
      const engines = registry.get(name).engines;
      const key = engine ?? Object.keys(engines)[0];
      const loader = key === undefined ? undefined : engines[key];
      if (!loader) throw new Error(`model "${name}" has no engine "${String(key)}"; engines: ${Object.keys(engines).join(', ') || 'none'}`);
      return loader;
    },
    names: () => [...models.keys()],
  };
  for (const entry of entries) registry.register(entry);
  return registry;
}

/** The registry the coordinator CLI, the simulations and the SDK trainers use unless given another. */
export const defaultModelRegistry: ModelRegistry = createModelRegistry();

export function registerModel(entry: ModelEntry): void {
  defaultModelRegistry.register(entry);
}

export function getModel(name: string): ModelDefinition {
  return defaultModelRegistry.definition(name);
}

export function registeredModels(): string[] {
  return defaultModelRegistry.names();
}

/**
 * The model's own client training settings (ModelEntry.trainingDefaults): empty when it has none, or when
 * the name is not registered (whoever loads the model reports that, with the registered names).
 */
export function modelTrainingDefaults(name: string): NonNullable<ModelEntry['trainingDefaults']> {
  return defaultModelRegistry.names().includes(name) ? (defaultModelRegistry.get(name).trainingDefaults ?? {}) : {};
}
