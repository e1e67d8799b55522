import type { Weights } from '@fedrec/protocol';
import type { StrategyState } from './strategy/strategy.js';

/** One committed model kept for rollbacks. */
export interface KeptModel {
  modelVersion: number;
  /** The version whose weights these are (differs from modelVersion after a rollback). */
  origin: number;
  weights: Weights;
  strategyState: StrategyState | undefined;
  /** true: its evaluation passed; false: it collapsed; null: not evaluated. */
  good: boolean | null;
  /** Its evaluation loss, when evaluated. */
  loss?: number;
}

export interface CollapseRule {
  /** A loss above factor × the median of recent good losses is a collapse. */
  lossFactor: number;
  lossWindow: number;
}

/**
 * The last few committed models in memory (weights and strategy state), and the rule that says
 * whether an evaluation collapsed. Memory: `keep` models (the coordinator keeps as many as checkpoints).
 */
export class ModelHistory {
  private models: KeptModel[] = [];
  /** Losses of evaluations that passed, newest last (kept longer than the models themselves). */
  private goodLosses: number[] = [];

  constructor(private readonly keep: number) {}

  add(m: KeptModel): void {
    this.models.push(m);
    if (this.models.length > this.keep) this.models.splice(0, this.models.length - this.keep);
  }

  get(modelVersion: number): KeptModel | undefined {
    return this.models.find((m) => m.modelVersion === modelVersion);
  }

  mark(modelVersion: number, good: boolean, loss: number | undefined): void {
    const m = this.get(modelVersion);
    if (!m) return;
    m.good = good;
    if (loss !== undefined) m.loss = loss;
    if (good && loss !== undefined) {
      this.goodLosses.push(loss);
      if (this.goodLosses.length > 100) this.goodLosses.shift();
    }
  }

  /**
   * Where an automatic rollback goes from the model now served: the newest kept model that carries
   * older weights (a strictly smaller origin, so repeated rollbacks always go further back) and is
   * not known bad, preferring one whose evaluation passed. undefined when there is none.
   */
  rollbackTarget(current: number): KeptModel | undefined {
    const origin = this.get(current)?.origin ?? current;
    const older = this.models.filter((m) => m.origin < origin && m.good !== false).reverse();
    return older.find((m) => m.good === true) ?? older[0];
  }

  /** True once some evaluation passed with a finite loss. */
  hasGoodLoss(): boolean {
    return this.goodLosses.length > 0;
  }

  /** Why `loss` is a collapse, or undefined when it is not (judged against recent good losses). */
  collapse(loss: number | undefined, rule: CollapseRule): string | undefined {
    if (loss === undefined) return undefined;
    if (!Number.isFinite(loss)) return `evaluation loss is ${loss}`;
    const recent = this.goodLosses.slice(-rule.lossWindow).sort((a, b) => a - b);
    if (recent.length === 0) return undefined;
    const median = recent[recent.length >> 1]!;
    return loss > rule.lossFactor * median ? `evaluation loss ${loss} exceeds ${rule.lossFactor} × the recent median ${median}` : undefined;
  }
}
