import { FedAdam, type FedAdamOptions } from './fedadam.js';

/**
 * η 0.05 as FedAdam's (measured there: an adaptive step moves each reported element by about η per
 * round, and our embeddings start at std 0.1); β1, β2 and τ are Flower's fedyogi.py defaults.
 */
export const FEDYOGI_DEFAULTS = { eta: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 } as const;

/**
 * FedYogi (Reddi et al. 2021, Algorithm 2): FedAdam's first moment, but the second moment moves
 * additively towards Δ² by (1−β2)·Δ²·sign(v − Δ²), so it cannot grow or shrink as fast as Adam's,
 * and no bias correction (the paper's and Flower's form). Same masking, checkpointing and catalogue
 * growth as FedAdam.
 */
export class FedYogi extends FedAdam {
  override readonly name: string = 'fedyogi';
  protected override readonly biasCorrected: boolean = false;

  constructor(options: FedAdamOptions = {}) {
    super({ ...FEDYOGI_DEFAULTS, ...options });
  }

  protected override secondMoment(v: number, g2: number): number {
    return v - (1 - this.beta2) * g2 * Math.sign(v - g2);
  }
}
