import type { AggregateSums, WeightManifest, Weights } from '@fedrec/protocol';
import { growFlat } from '../catalogue-growth.js';
import type { Failure } from '../failure.js';
import { FedAvg } from './fedavg.js';
import { averageDelta, reportedElements } from './fedavg-math.js';
import type { StrategyState } from './strategy.js';
import { fromTensors, toTensors } from './strategy-state.js';

export interface FedAdamOptions {
  /** Server learning rate η: the largest step Adam takes per element and round. */
  eta?: number;
  /** Decay of the first moment (the averaged delta's running mean). */
  beta1?: number;
  /** Decay of the second moment (its running mean square). */
  beta2?: number;
  /** τ: adaptivity floor added to √v (Reddi et al. use it in place of Adam's ε). */
  tau?: number;
  /** Source of randomness for client sampling (inject a seeded one for reproducible runs). */
  random?: () => number;
  /** η's multiplier by round id (a server learning-rate schedule, server-lr-schedule.ts); default constant 1. */
  etaFactor?: (roundId: number) => number;
}

/**
 * η = 0.05, not Flower's 0.1: Adam moves every reported element by about η per round whatever the
 * delta's size, and our embeddings start at std 0.1 (RECSYS_DEFAULTS.initStd). On the in-process
 * simulation (synthetic 200 users × 300 items, NeuMF f=8, 12 rounds, all clients) HR@10 was
 * FedAvg 0.535; FedAdam η 0.01: 0.450, 0.03: 0.570, 0.05: 0.645, 0.1: 0.600, 0.3: 0.580 (loss stalls).
 */
export const FEDADAM_DEFAULTS = { eta: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-9 } as const;

/**
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"): server Adam on FedAvg's averaged
 * delta as the pseudo-gradient, with bias correction. Elements the round says nothing about (rows
 * nobody touched, or everything when nobody reported) are masked: they neither move nor update
 * their moments or step count, as in lazy (sparse) Adam. The moments and step counts are checkpointed (saveState).
 */
export class FedAdam extends FedAvg {
  override readonly name: string = 'fedadam';
  protected readonly eta: number;
  protected readonly beta1: number;
  protected readonly beta2: number;
  protected readonly tau: number;
  /** Adam corrects both moments' bias (Kingma & Ba); FedYogi and FedAdagrad follow Reddi et al.'s Algorithm 2 without it. */
  protected readonly biasCorrected: boolean = true;
  /** η's multiplier per round (server-lr-schedule.ts); constant 1 unless a schedule is set. */
  protected readonly etaFactor: (roundId: number) => number;
  private state: { m: Float64Array; v: Float64Array; steps: Uint32Array } | undefined;

  constructor(options: FedAdamOptions = {}) {
    super(options.random ? { random: options.random } : {});
    this.etaFactor = options.etaFactor ?? (() => 1);
    this.eta = options.eta ?? FEDADAM_DEFAULTS.eta;
    this.beta1 = options.beta1 ?? FEDADAM_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? FEDADAM_DEFAULTS.beta2;
    this.tau = options.tau ?? FEDADAM_DEFAULTS.tau;
    if (!(this.eta > 0) || !Number.isFinite(this.eta)) throw new RangeError(`eta must be a positive finite number, got ${this.eta}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1)) throw new RangeError(`beta1 must be in [0, 1), got ${this.beta1}`);
    if (!(this.beta2 >= 0 && this.beta2 < 1)) throw new RangeError(`beta2 must be in [0, 1), got ${this.beta2}`);
    if (!(this.tau > 0) || !Number.isFinite(this.tau)) throw new RangeError(`tau must be a positive finite number, got ${this.tau}`);
  }

  /** The second-moment rule: Adam's exponential moving average of the squared pseudo-gradient. */
  protected secondMoment(v: number, g2: number): number {
    return this.beta2 * v + (1 - this.beta2) * g2;
  }

  override aggregateFit(roundId: number, global: Weights, sums: AggregateSums, _failures: readonly Failure[]): Weights {
    const g = averageDelta(global.manifest, sums);
    const reported = reportedElements(global.manifest, sums);
    const n = g.length;
    if (!this.state || this.state.m.length !== n) this.state = { m: new Float64Array(n), v: new Float64Array(n), steps: new Uint32Array(n) };
    const { m, v, steps } = this.state;
    const { beta1, beta2, tau, biasCorrected } = this;
    const eta = this.eta * this.etaFactor(roundId);
    const body = Float32Array.from(global.body);
    for (let i = 0; i < n; i++) {
      if (!reported[i]) continue;
      const t = ++steps[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
      v[i] = this.secondMoment(v[i]!, g[i]! * g[i]!);
      // Bias-corrected step (Kingma & Ba): each element counts its own rounds, since masked rows skip some.
      const mHat = biasCorrected ? m[i]! / (1 - beta1 ** t) : m[i]!;
      const vHat = biasCorrected ? v[i]! / (1 - beta2 ** t) : v[i]!;
      body[i] = global.body[i]! + (eta * mHat) / (Math.sqrt(vHat) + tau);
    }
    return { manifest: global.manifest, body };
  }

  saveState(manifest: WeightManifest): StrategyState | undefined {
    if (!this.state) return undefined;
    // Step counts travel as float32: exact up to 2^24 rounds.
    return { m: toTensors(manifest, this.state.m), v: toTensors(manifest, this.state.v), steps: toTensors(manifest, this.state.steps) };
  }

  loadState(manifest: WeightManifest, state: StrategyState): void {
    const steps = fromTensors(manifest, state['steps'], 'steps');
    this.state = { m: fromTensors(manifest, state['m'], 'm'), v: fromTensors(manifest, state['v'], 'v'), steps: Uint32Array.from(steps) };
  }

  /** New item rows start with zero moments and no steps (their first update is bias-corrected from scratch). */
  growRows(from: WeightManifest, to: WeightManifest): void {
    const s = this.state;
    if (!s) return;
    this.state = {
      m: growFlat(from, to, s.m, (n) => new Float64Array(n)),
      v: growFlat(from, to, s.v, (n) => new Float64Array(n)),
      steps: growFlat(from, to, s.steps, (n) => new Uint32Array(n)),
    };
  }
}
