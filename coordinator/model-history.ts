import type { Weights } from '@fedrec/protocol';
import type { StrategyState } from './strategy/strategy.js';

/** One committed model kept for rollbacks. */
export interface KeptModel {
  modelVersion: number;
  weights: Weights;
  strategyState: StrategyState | undefined;
  /** true: its evaluation passed; false: it collapsed or clients could not train on it; null: not judged. */
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
 * The last few committed models in memory (weights and strategy state; `keep` of them, plus the
 * newest one whose evaluation passed, which is never evicted), which version's weights each served
 * version carries (rollbacks serve old weights under new versions), and the collapse rule.
 */
export class ModelHistory {
  private models: KeptModel[] = [];
  private lastGood: KeptModel | undefined;
  /** Served version → the committed version whose weights it carries (only for rollbacks). */
  private readonly origins = new Map<number, number>();
  /** Losses of evaluations that passed, newest last. */
  private goodLosses: number[] = [];

  constructor(private readonly keep: number) {}

  add(m: KeptModel): void {
    this.models.push(m);
    if (this.models.length > this.keep) this.models.splice(0, this.models.length - this.keep);
  }

  /** Records that `modelVersion` serves the weights of committed version `origin`. */
  alias(modelVersion: number, origin: number): void {
    this.origins.set(modelVersion, origin);
  }

  originOf(modelVersion: number): number {
    return this.origins.get(modelVersion) ?? modelVersion;
  }

  get(modelVersion: number): KeptModel | undefined {
    const v = this.originOf(modelVersion);
    return this.models.find((m) => m.modelVersion === v) ?? (this.lastGood?.modelVersion === v ? this.lastGood : undefined);
  }

  mark(modelVersion: number, good: boolean, loss: number | undefined): void {
    const m = this.get(modelVersion);
    if (!m) return;
    m.good = good;
    if (loss !== undefined) m.loss = loss;
    if (good) {
      if (!this.lastGood || m.modelVersion >= this.lastGood.modelVersion) this.lastGood = m;
      if (loss !== undefined) {
        this.goodLosses.push(loss);
        if (this.goodLosses.length > 100) this.goodLosses.shift();
      }
    }
  }

  /**
   * Where an automatic rollback goes from the model now served: a kept model with older weights than
   * it carries (so repeated rollbacks always go further back) that is not known bad, preferring the
   * newest whose evaluation passed, else the newest. undefined when there is none.
   */
  rollbackTarget(current: number): KeptModel | undefined {
    const origin = this.originOf(current);
    const pool = [...this.models, ...(this.lastGood && !this.models.includes(this.lastGood) ? [this.lastGood] : [])];
    const older = pool.filter((m) => m.modelVersion < origin && m.good !== false).sort((x, y) => y.modelVersion - x.modelVersion);
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
