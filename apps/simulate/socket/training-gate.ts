import type { EvaluateOutcome, FitOutcome, TaskContext, Trainer } from '@fedrec/client-sdk/trainer.js';

/**
 * Lets at most `concurrency` trainings run at once in one worker thread. A real device trains its
 * own user only; a worker hosting hundreds of simulated devices would otherwise start all their fits
 * together, interleave them slice by slice, and keep every one of them (and its sockets' buffers)
 * half-done until the end of the round. Queued devices wait idle and keep answering pings.
 */
export class TrainingGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency = 1) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** The trainer with its fits and evaluations taken in turn through the gate. */
export function gatedTrainer(trainer: Trainer, gate: TrainingGate): Trainer {
  return {
    fit: (ctx: TaskContext): Promise<FitOutcome> => gate.run(() => trainer.fit(ctx)),
    evaluate: (ctx: TaskContext): Promise<EvaluateOutcome> => gate.run(() => trainer.evaluate(ctx)),
    get engine() {
      return trainer.engine;
    },
  };
}
