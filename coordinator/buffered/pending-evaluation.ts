import type { WireWeights } from '@fedrec/protocol';
import type { Failure } from '../failure.js';
import type { EvaluationRecord } from '../round-record.js';
import type { EvaluateResult, Strategy } from '../strategy/strategy.js';

/**
 * An evaluation of one committed version while training goes on: each chosen client evaluates that
 * version (its weights travel in the task) the next time it is free, instead of its next fit. It ends when
 * every chosen client has answered or failed, or at its deadline; the strategy aggregates as in sync mode.
 */
export class PendingEvaluation {
  readonly results: EvaluateResult[] = [];
  readonly failures: Failure[] = [];
  private readonly waiting: Set<string>;
  private out = 0;

  constructor(
    readonly roundId: number,
    readonly modelVersion: number,
    readonly weights: WireWeights,
    readonly deadline: number,
    clients: readonly string[],
  ) {
    this.waiting = new Set(clients);
  }

  /** True when this client should evaluate next (and marks it as out). */
  take(clientId: string): boolean {
    if (!this.waiting.delete(clientId)) return false;
    this.out += 1;
    return true;
  }

  settled(): void {
    this.out -= 1;
  }

  /** Chosen clients that left before their turn are no longer waited for. */
  keepOnly(connected: ReadonlySet<string>): void {
    for (const clientId of this.waiting) if (!connected.has(clientId)) this.waiting.delete(clientId);
  }

  done(now: number): boolean {
    return (this.waiting.size === 0 && this.out === 0) || now >= this.deadline;
  }

  async record(strategy: Strategy): Promise<EvaluationRecord> {
    for (const clientId of this.waiting)
      this.failures.push({ clientId, taskId: '', phase: 'evaluate', code: 'TIMEOUT', message: 'not free to evaluate before the deadline' });
    this.waiting.clear();
    const metrics = await strategy.aggregateEvaluate(this.roundId, this.results, this.failures);
    return {
      modelVersion: this.modelVersion,
      participants: this.results.map((r) => r.clientId),
      failures: this.failures,
      numExamples: this.results.reduce((n, r) => n + r.numExamples, 0),
      metrics,
    };
  }
}
