import * as tf from '@tensorflow/tfjs';
import { LOGISTIC_MODEL_NAME, LOGISTIC_TENSORS, logisticOptions } from '@fedrec/models/logistic.js';
import { isPositive } from '../../store/behaviour-event.js';
import type { BuiltLayersModel, LayersModelBuilder } from '../builder-registry.js';
import type { Dataset, DatasetFn } from '../layers-trainer.js';
import { PrivateBias } from '../private-bias-layer.js';

/** x → dense(1) [shared] → + user bias [private] → sigmoid. */
export const logisticLayersBuilder: LayersModelBuilder = {
  name: LOGISTIC_MODEL_NAME,
  build(options): BuiltLayersModel {
    const { features } = logisticOptions(options);
    const input = tf.input({ shape: [features] });
    const dense = tf.layers.dense({ units: 1, useBias: true, kernelInitializer: 'zeros', name: 'logistic_dense' });
    const userBias = new PrivateBias({ name: 'logistic_user_bias' });
    const logits = userBias.apply(dense.apply(input)) as tf.SymbolicTensor;
    const output = tf.layers.activation({ activation: 'sigmoid' }).apply(logits) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const [kernel, bias] = dense.weights;
    if (!kernel || !bias || !userBias.bias) throw new Error('logistic: layers did not build their weights');
    return {
      model,
      tensors: [
        { name: LOGISTIC_TENSORS.kernel, variable: kernel, shared: true },
        { name: LOGISTIC_TENSORS.bias, variable: bias, shared: true },
        { name: LOGISTIC_TENSORS.userBias, variable: userBias.bias, shared: false },
      ],
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    };
  },
};

/** Hashes an item id into one of `buckets` feature slots (stable across devices). */
export function itemBucket(itemId: string | number, buckets: number): number {
  const text = String(itemId);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

/**
 * A ready-made dataset for the logistic model: each event becomes a one-hot of its hashed
 * item id, labelled by isPositive. Enough for a demo click model; real apps inject their own.
 */
export const logisticEventsDataset: DatasetFn = async ({ store, modelSpec }): Promise<Dataset | null> => {
  const { features } = logisticOptions(modelSpec.options);
  const events = await store.list();
  if (events.length === 0) return null;
  const xs = new Float32Array(events.length * features);
  const ys = new Float32Array(events.length);
  events.forEach((e, i) => {
    xs[i * features + itemBucket(e.itemId, features)] = 1;
    ys[i] = isPositive(e) ? 1 : 0;
  });
  return { xs: tf.tensor2d(xs, [events.length, features]), ys: tf.tensor2d(ys, [events.length, 1]) };
};
