import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '@fedrec/protocol';

/** One manifest tensor and the model variable that holds it. */
export interface MappedTensor {
  /** The manifest name (e.g. "dense/kernel"). */
  name: string;
  variable: tf.LayerVariable;
  /** Federated (true) or kept on the device (false): the builder decides, not the coordinator. */
  shared: boolean;
}

/** A tfjs model ready to train, plus how its variables map onto the weight manifest. */
export interface BuiltLayersModel {
  model: tf.LayersModel;
  tensors: MappedTensor[];
  /** Compile loss (default "binaryCrossentropy"). */
  loss?: string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);
  /** Extra metrics reported by evaluate (e.g. ["accuracy"]). */
  metrics?: string[];
}

export interface LayersModelBuilder {
  /** Same name as the model definition in models/registry. */
  name: string;
  build(options: ModelSpec['options']): BuiltLayersModel;
}

/** Name → builder; a factory so tests and apps can keep their own, with one default instance. */
export interface LayersBuilderRegistry {
  register(builder: LayersModelBuilder): void;
  get(name: string): LayersModelBuilder;
  names(): string[];
}

export function createLayersBuilderRegistry(): LayersBuilderRegistry {
  const builders = new Map<string, LayersModelBuilder>();
  return {
    register: (builder) => void builders.set(builder.name, builder),
    get(name) {
      const builder = builders.get(name);
      if (!builder) throw new Error(`no layers builder for model "${name}"; registered: ${[...builders.keys()].join(', ') || 'none'}`);
      return builder;
    },
    names: () => [...builders.keys()],
  };
}

/** The registry LayersTrainer uses unless given another; built-ins register here. */
export const defaultLayersBuilders: LayersBuilderRegistry = createLayersBuilderRegistry();

export function registerLayersBuilder(builder: LayersModelBuilder): void {
  defaultLayersBuilders.register(builder);
}
