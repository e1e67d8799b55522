import type { ModelSpec, WeightManifest, Weights } from '@fedrec/protocol';

/**
 * What both sides need to know about a model, without tfjs: its tensors (shared and private)
 * and how to make fresh shared weights. Trainers on the device build the tfjs graph from the
 * same spec; the coordinator only ever sees the manifest and the shared body.
 */
export interface ModelDefinition {
  name: string;
  /** Every tensor of the model for these options, shared and private, in a fixed order. */
  manifest(options: ModelSpec['options']): WeightManifest;
  /** Fresh shared weights, reproducible from the seed. */
  initialWeights(options: ModelSpec['options'], seed: number): Weights;
}

const definitions = new Map<string, ModelDefinition>();

export function registerModel(def: ModelDefinition): void {
  definitions.set(def.name, def);
}

export function getModel(name: string): ModelDefinition {
  const def = definitions.get(name);
  if (!def) throw new Error(`unknown model "${name}"; registered: ${[...definitions.keys()].join(', ') || 'none'}`);
  return def;
}

export function registeredModels(): string[] {
  return [...definitions.keys()];
}
