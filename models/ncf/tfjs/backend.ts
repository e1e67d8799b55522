import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** Picks the first backend that initialises (wasm ships its .wasm in node_modules, so it works offline). */
export async function useBestBackend(preferred: string[] = ['wasm', 'cpu']): Promise<string> {
  for (const name of preferred) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch {
      // Try the next one.
    }
  }
  throw new Error(`no tfjs backend among ${preferred.join(', ')} initialised`);
}
