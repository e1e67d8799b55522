import type { ModelSpec } from '@fedrec/protocol';
import type { LocalFitOptions, LocalFitResult } from './ncf/engine/local-fit.js';
import type { LocalPlan } from './ncf/engine/plan.js';

/**
 * A device engine for an item recommender over one user: private user rows, shared rowwise item
 * tables. The SDK's RecsysTrainer drives it; shared and private tensors come by manifest name.
 */
export interface RecommenderEngine {
  readonly kind: 'recommender';
  /** Catalogue size: the row count of the item tables. */
  numItems(options: ModelSpec['options']): number;
  /** A device's fresh private tensors, reproducible from the seed. */
  initialPrivate(options: ModelSpec['options'], seed: number): Map<string, Float32Array>;
  /** Local training on the gathered rows of the items the plan touches. */
  fit(
    options: ModelSpec['options'],
    shared: Map<string, Float32Array>,
    priv: Map<string, Float32Array>,
    plan: LocalPlan,
    o: LocalFitOptions,
  ): Promise<LocalFitResult>;
  /** Logits of this user against the given items. */
  score(options: ModelSpec['options'], shared: Map<string, Float32Array>, priv: Map<string, Float32Array>, items: Int32Array): Promise<Float32Array>;
  /**
   * Logits of this user against every item, in row order: one dense pass for recommend() over a
   * whole catalogue. Optional: without it, callers score() every item.
   */
  scoreAll?(options: ModelSpec['options'], shared: Map<string, Float32Array>, priv: Map<string, Float32Array>): Promise<Float32Array>;
  /**
   * Trains only the private tensors against frozen shared weights (on-device personalization between
   * rounds); returns them after training. Optional: without it, devices personalize with fit().
   */
  personalize?(
    options: ModelSpec['options'],
    shared: Map<string, Float32Array>,
    priv: Map<string, Float32Array>,
    plan: LocalPlan,
    o: LocalFitOptions,
  ): Promise<Map<string, Float32Array>>;
}
