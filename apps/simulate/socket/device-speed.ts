import { SeededRandom } from '@fedrec/models/random.js';
import type { EvaluateOutcome, FitOutcome, TaskContext, Trainer } from '@fedrec/client-sdk/trainer.js';
import type { TrainingGate } from './training-gate.js';

/**
 * Heavy-tailed device speeds for the simulation (`--device-speed lognormal:σ`, `--stragglers 0.1x10`).
 * Each device gets a slowdown factor f ≥ 1 (seeded): its fit answers f × its measured training time after
 * the fit started, i.e. it trains, then waits (f − 1) × that time without holding a core, as a phone
 * that is f times slower would. Evaluations are not slowed.
 */
export interface DeviceSpeed {
  /** σ of the log-normal factor (median 1; factors below 1 count as 1): 0 = every device equally fast. */
  lognormalSigma: number;
  /** A fraction of devices (chosen by the seed) that are `factor` times slower again. */
  stragglers: { fraction: number; factor: number } | null;
}

export const UNIFORM_SPEED: DeviceSpeed = { lognormalSigma: 0, stragglers: null };

/** "uniform" or "lognormal:σ". */
export function parseDeviceSpeed(text: string): number {
  if (text === 'uniform') return 0;
  const m = /^lognormal:(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) throw new TypeError(`device speed "${text}": expected uniform or lognormal:SIGMA (e.g. lognormal:1)`);
  return Number(m[1]);
}

/** "FRACTIONxFACTOR", e.g. "0.1x10" (10% of devices 10 times slower); "none". */
export function parseStragglers(text: string): DeviceSpeed['stragglers'] {
  if (text === 'none') return null;
  const m = /^(0?\.\d+|0|1)x(\d+(?:\.\d+)?)$/.exec(text);
  const fraction = Number(m?.[1]);
  const factor = Number(m?.[2]);
  if (!m || !(fraction >= 0 && fraction <= 1) || !(factor >= 1)) throw new TypeError(`stragglers "${text}": expected FRACTIONxFACTOR, e.g. 0.1x10`);
  return { fraction, factor };
}

/** One slowdown factor per device, by index (seeded: the same devices are slow in every mode of a comparison). */
export function slowdownFactors(count: number, speed: DeviceSpeed, seed: number): number[] {
  const random = new SeededRandom(seed ^ 0x5eed5);
  const factors = Array.from({ length: count }, () => Math.max(1, Math.exp(speed.lognormalSigma * random.normal())));
  if (speed.stragglers) {
    const order = random.shuffle(Array.from({ length: count }, (_, i) => i));
    const slow = Math.round(speed.stragglers.fraction * count);
    for (const i of order.slice(0, slow)) factors[i]! *= speed.stragglers.factor;
  }
  return factors;
}

/** The trainer through the worker's training gate, its fits answered `factor` × their training time after they started. */
export function slowedTrainer(trainer: Trainer, gate: TrainingGate, factor: number): Trainer {
  return {
    fit: async (ctx: TaskContext): Promise<FitOutcome> => {
      let trainedMs = 0;
      const outcome = await gate.run(async () => {
        const started = performance.now();
        const result = await trainer.fit(ctx);
        trainedMs = performance.now() - started;
        return result;
      });
      // The wait is outside the gate: other devices of this thread train meanwhile, as on separate phones.
      if (factor > 1) await new Promise((resolve) => setTimeout(resolve, (factor - 1) * trainedMs));
      return outcome;
    },
    evaluate: (ctx: TaskContext): Promise<EvaluateOutcome> => gate.run(() => trainer.evaluate(ctx)),
    get engine() {
      return trainer.engine;
    },
  };
}
