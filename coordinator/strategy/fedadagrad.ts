import { FedAdam, type FedAdamOptions } from './fedadam.js';

/**
 * η 0.1 and τ 1e-9 are Flower's fedadagrad.py defaults (Adagrad's steps shrink as 1/√rounds, so it
 * starts larger than FedAdam's 0.05); β1 0 = no server momentum, as in Flower (Reddi et al. allow β1 > 0).
 */
export const FEDADAGRAD_DEFAULTS = { eta: 0.1, beta1: 0, tau: 1e-9 } as const;

/**
 * FedAdagrad (Reddi et al. 2021, Algorithm 2): the second moment is the running SUM of squared
 * pseudo-gradients, v ← v + Δ², without decay or bias correction, so each element's step shrinks
 * with its history. Same masking, checkpointing and catalogue growth as FedAdam.
 */
export class FedAdagrad extends FedAdam {
  override readonly name: string = 'fedadagrad';
  protected override readonly biasCorrected: boolean = false;

  constructor(options: Omit<FedAdamOptions, 'beta2'> = {}) {
    super({ ...FEDADAGRAD_DEFAULTS, ...options });
  }

  protected override secondMoment(v: number, g2: number): number {
    return v + g2;
  }
}
