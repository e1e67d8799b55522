import * as tf from '@tensorflow/tfjs';
import { logisticOptions } from '@fedrec/models/logistic-spec.js';
import { isPositive } from '../store/behaviour-event.js';
import type { Dataset, DatasetFn } from './layers-trainer.js';

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
