import type { ModelSpec } from '@fedrec/protocol';

/**
 * A tiny logistic model: p = sigmoid(x · w + b + u), where w and b are federated and u is a
 * per-user bias that never leaves the device. Small enough for tests, yet it has a private tensor.
 */
export const LOGISTIC_MODEL_NAME = 'logistic';

export const LOGISTIC_TENSORS = {
  kernel: 'dense/kernel',
  bias: 'dense/bias',
  userBias: 'user/bias',
} as const;

export interface LogisticOptions {
  /** Input width. */
  features: number;
}

export const DEFAULT_LOGISTIC_FEATURES = 8;
const MAX_FEATURES = 1 << 20;

export function logisticOptions(options: ModelSpec['options']): LogisticOptions {
  const raw = options['features'] ?? DEFAULT_LOGISTIC_FEATURES;
  const features = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(features) || features < 1 || features > MAX_FEATURES) {
    throw new RangeError(`logistic: features must be an integer in [1, ${MAX_FEATURES}], got ${String(raw)}`);
  }
  return { features };
}
