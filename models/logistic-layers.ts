import * as tf from '@tensorflow/tfjs';
import type { BuiltLayersModel, LayersEngine } from './layers-engine.js';
import { LOGISTIC_TENSORS, logisticOptions } from './logistic-spec.js';
import { PrivateBias } from './private-bias-layer.js';

/** x → dense(1) [shared] → + user bias [private] → sigmoid. */
export const logisticLayersEngine: LayersEngine = {
  kind: 'layers',
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
