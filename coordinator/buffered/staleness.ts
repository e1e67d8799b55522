import { z } from 'zod';

/**
 * How much an update trained on a model `s` versions old counts (s = current version − the task's base
 * version, measured when the update is accepted). The weight multiplies the update's delta, never its
 * example count, so the strategy's mean is FedBuff's Σ α(s)·n·Δ / Σ n: a buffer of fresh updates is
 * plain FedAvg, and a stale one moves the model less.
 *
 * - constant: α = 1 (FedBuff's plain buffer).
 * - polynomial: α = (1 + s)^−exponent (FedBuff's 1/√(1+s) with exponent 0.5; FedAsync's polynomial).
 * - hinge: α = 1 while s ≤ after, then 1 / (slope·(s − after) + 1) (FedAsync's hinge).
 */
export const stalenessPolicySchema = z.strictObject({
  policy: z.enum(['constant', 'polynomial', 'hinge']).default('polynomial'),
  /** polynomial: α = (1 + s)^−exponent. */
  exponent: z.number().min(0).finite().default(0.5),
  /** hinge: versions behind that still count fully. */
  after: z.number().int().min(0).default(4),
  /** hinge: how fast the weight falls after that. */
  slope: z.number().min(0).finite().default(1),
});

export type StalenessPolicy = z.output<typeof stalenessPolicySchema>;

/** The weight of an update `staleness` versions behind (1 at staleness 0 for every policy). */
export function stalenessWeight(policy: StalenessPolicy, staleness: number): number {
  if (!Number.isInteger(staleness) || staleness < 0) throw new RangeError(`staleness must be a whole number >= 0, got ${staleness}`);
  switch (policy.policy) {
    case 'constant':
      return 1;
    case 'polynomial':
      return (1 + staleness) ** -policy.exponent;
    case 'hinge':
      return staleness <= policy.after ? 1 : 1 / (policy.slope * (staleness - policy.after) + 1);
  }
}

/** Parses the CLI form: "constant", "polynomial[:exponent]" or "hinge[:after[:slope]]". */
export function parseStalenessPolicy(text: string): StalenessPolicy {
  const [name, ...args] = text.split(':');
  const nums = args.map(Number);
  if (nums.some((n) => !Number.isFinite(n))) throw new TypeError(`staleness policy "${text}": parameters must be numbers`);
  if (name === 'constant' && nums.length === 0) return stalenessPolicySchema.parse({ policy: 'constant' });
  if (name === 'polynomial' && nums.length <= 1) return stalenessPolicySchema.parse({ policy: 'polynomial', ...(nums.length ? { exponent: nums[0] } : {}) });
  if (name === 'hinge' && nums.length <= 2)
    return stalenessPolicySchema.parse({ policy: 'hinge', ...(nums.length ? { after: nums[0] } : {}), ...(nums.length > 1 ? { slope: nums[1] } : {}) });
  throw new TypeError(`staleness policy "${text}": expected constant, polynomial[:exponent] or hinge[:after[:slope]]`);
}
