import * as tf from '@tensorflow/tfjs';

/** Adds one learned scalar to its input: a per-user bias that stays on the device. */
export class PrivateBias extends tf.layers.Layer {
  static readonly className = 'FedrecPrivateBias';
  bias: tf.LayerVariable | undefined;

  override build(): void {
    this.bias = this.addWeight('bias', [1], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.add(x, this.bias!.read());
    });
  }

  override getClassName(): string {
    return PrivateBias.className;
  }
}

tf.serialization.registerClass(PrivateBias);
