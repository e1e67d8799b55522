import { z } from 'zod';

/**
 * A learning-rate schedule: the multiplier of a base rate at step t = 0, 1, 2, ... (the client lr:
 * t = the committed model version the round trains on; the server lr: t = the coordinator's round id,
 * which abandoned rounds advance too). Written as a short spec so one flag or JSON field carries it:
 * - `constant`: 1;
 * - `step:EVERY:GAMMA`: GAMMA^floor(t/EVERY) (e.g. step:20:0.5 halves every 20 rounds);
 * - `exponential:GAMMA`: GAMMA^t (the in-process runtime's old client lr decay);
 * - `cosine:ROUNDS[:FLOOR]`: FLOOR + (1-FLOOR)·(1+cos(π·min(t, ROUNDS)/ROUNDS))/2, from 1 down to
 *   FLOOR (default 0) over ROUNDS rounds, then FLOOR (Loshchilov & Hutter's cosine annealing).
 */
export type LrSchedule =
  | { kind: 'constant' }
  | { kind: 'step'; every: number; gamma: number }
  | { kind: 'exponential'; gamma: number }
  | { kind: 'cosine'; rounds: number; floor: number };

export const LR_SCHEDULE_HELP = 'constant | step:EVERY:GAMMA | exponential:GAMMA | cosine:ROUNDS[:FLOOR]';

/** Parses a schedule spec; throws a RangeError saying what is wrong. */
export function parseLrSchedule(spec: string): LrSchedule {
  const [kind, ...args] = spec.trim().split(':');
  const nums = args.map(Number);
  const bad = (why: string) => new RangeError(`lr schedule "${spec}": ${why} (expected ${LR_SCHEDULE_HELP})`);
  if (nums.some((n) => !Number.isFinite(n))) throw bad('arguments must be numbers');
  const positiveInt = (n: number | undefined, what: string) => {
    if (n === undefined || !Number.isInteger(n) || n < 1) throw bad(`${what} must be a whole number >= 1`);
    return n;
  };
  const factor = (n: number | undefined, what: string) => {
    if (n === undefined || !(n > 0 && n <= 1)) throw bad(`${what} must be in (0, 1]`);
    return n;
  };
  switch (kind) {
    case 'constant':
      if (nums.length) throw bad('constant takes no arguments');
      return { kind };
    case 'step':
      if (nums.length !== 2) throw bad('step takes EVERY and GAMMA');
      return { kind, every: positiveInt(nums[0], 'EVERY'), gamma: factor(nums[1], 'GAMMA') };
    case 'exponential':
      if (nums.length !== 1) throw bad('exponential takes GAMMA');
      return { kind, gamma: factor(nums[0], 'GAMMA') };
    case 'cosine': {
      if (nums.length < 1 || nums.length > 2) throw bad('cosine takes ROUNDS and an optional FLOOR');
      const floor = nums[1] ?? 0;
      if (!(floor >= 0 && floor <= 1)) throw bad('FLOOR must be in [0, 1]');
      return { kind, rounds: positiveInt(nums[0], 'ROUNDS'), floor };
    }
    default:
      throw bad(`unknown kind "${kind}"`);
  }
}

/** The multiplier at step `step` (0-based; negative steps count as 0). */
export function lrFactor(s: LrSchedule, step: number): number {
  const r = Math.max(0, Math.floor(step));
  switch (s.kind) {
    case 'constant':
      return 1;
    case 'step':
      return s.gamma ** Math.floor(r / s.every);
    case 'exponential':
      return s.gamma ** r;
    case 'cosine':
      return s.floor + ((1 - s.floor) * (1 + Math.cos((Math.PI * Math.min(r, s.rounds)) / s.rounds))) / 2;
  }
}

/** A schedule spec as a zod field (strategy options, round config), validated by parseLrSchedule. */
export const lrScheduleSpec = () =>
  z.string().superRefine((v, ctx) => {
    try {
      parseLrSchedule(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });

/** The multiplier function of a spec (constant 1 when absent). */
export function lrFactorOf(spec: string | undefined): (step: number) => number {
  if (spec === undefined) return () => 1;
  const s = parseLrSchedule(spec);
  return (step) => lrFactor(s, step);
}
