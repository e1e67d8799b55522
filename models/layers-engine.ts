import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '@fedrec/protocol';

/** One manifest tensor and the model variable that holds it. */
export interface MappedTensor {
  /** The manifest name (e.g. "dense/kernel"). */
  name: string;
  variable: tf.LayerVariable;
  /** Federated (true) or kept on the device (false): the engine decides, not the coordinator. */
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

/** A device engine that builds a tfjs LayersModel; the SDK's LayersTrainer trains it on the app's dataset. */
export interface LayersEngine {
  readonly kind: 'layers';
  build(options: ModelSpec['options']): BuiltLayersModel;
}
