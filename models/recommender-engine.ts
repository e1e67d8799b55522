import type { ModelSpec } from '@fedrec/protocol';
import type { LocalFitOptions, LocalFitResult } from './ncf/engine/local-fit.js';
import type { LocalPlan, PlanOptions } from './ncf/engine/plan.js';

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
  /**
   * Builds the local training plan from the device's time-ordered history (sequence models: sliding
   * windows with their contexts). Optional: without it, the trainer plans over the set of items
   * (planLocalTraining), order-blind.
   */
  planFit?(options: ModelSpec['options'], history: Int32Array, o: PlanOptions): LocalPlan;
  /**
   * Private tensors that are a function of the device's own history (a sequence model's recent
   * items), set by the trainer before every fit and every score, so a new event changes the next
   * recommendations at once. Optional: without it, private tensors are trained state.
   */
  privateFromHistory?(options: ModelSpec['options'], history: Int32Array): Map<string, Float32Array>;
  /**
   * The shared dense tensors that form the score function, which PFedRec personalization keeps per
   * device (client-sdk/trainers/pfedrec.ts). Optional: without it, every dense shared tensor.
   */
  scoreFunction?(options: ModelSpec['options']): string[];
}
