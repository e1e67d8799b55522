import type { ModelSpec, TrainingConfig } from '../protocol/index.js';

/**
 * Defaults for federated NeuMF on ML-100K-sized data, chosen with the in-process simulation
 * (bench/recsys-quality.ts, 2-core machine shared with other jobs). Measured while choosing them:
 * - centralized NeuMF (f=8, Adam 1e-3, batch 256): HR@10 0.64 after 20 epochs; f=16 peaked at 0.63.
 * - federated, 1 local epoch, client batch 32, lr 0.5: stuck at the base-rate loss (0.50) for ~15
 *   rounds (random private user rows make item gradients cancel), HR@10 0.40 at 30 rounds.
 * - smaller client batches with a larger step break that plateau within ~10 rounds:
 *   batch 4 / lr 0.5 and batch 8 / lr 1 both gave HR@10 0.49 at round 20 (batch 32 / lr 1: 0.40).
 * - 3 local epochs (batch 32, lr 1) overfit each client (train loss 0.19) and stalled at HR@10 0.41.
 * - a server lr of 3 on the rowwise average diverged (loss 0.92 at round 10).
 * See FINAL below for the run behind `rounds`.
 */
export const RECSYS_DEFAULTS = {
  model: 'neumf' as const,
  /** GMF width = last MLP layer ("predictive factors" in He et al.). */
  factors: 8,
  /** Per-side MLP embedding width; hidden layers 2f-f. */
  mlpDim: 16,
  layers: '16-8',
  initStd: 0.1,
  split: { negatives: 99, seed: 42 },
  federated: {
    rounds: 60,
    /** All users every round (943 on ML-100K); the bench passes the user count. */
    clientsPerRound: Number.MAX_SAFE_INTEGER,
    localEpochs: 1,
    batchSize: 4,
    clientLr: 1,
    serverLr: 1,
    negatives: 4,
  },
  centralized: { epochs: 20, batchSize: 256, learningRate: 0.001, optimizer: 'adam' as const, negatives: 4 },
  /** The simulation spreads clients over this many worker threads (one per core here). */
  simulationWorkers: 2,
};

/** Model options for a catalogue of `numItems` items. */
export function recsysModelOptions(numItems: number, override: Partial<{ factors: number; mlpDim: number; layers: string; initStd: number }> = {}): ModelSpec['options'] {
  const factors = override.factors ?? RECSYS_DEFAULTS.factors;
  const scaled = factors !== RECSYS_DEFAULTS.factors;
  return {
    numItems,
    factors,
    mlpDim: override.mlpDim ?? (scaled ? 2 * factors : RECSYS_DEFAULTS.mlpDim),
    layers: override.layers ?? (scaled ? `${2 * factors}-${factors}` : RECSYS_DEFAULTS.layers),
    initStd: override.initStd ?? RECSYS_DEFAULTS.initStd,
  };
}

export function recsysModelSpec(numItems: number): ModelSpec {
  return { name: RECSYS_DEFAULTS.model, options: recsysModelOptions(numItems) };
}

/** The fit config the coordinator should send to RecsysTrainer clients. */
export function recsysTrainingConfig(): TrainingConfig {
  const f = RECSYS_DEFAULTS.federated;
  return { localEpochs: f.localEpochs, batchSize: f.batchSize, learningRate: f.clientLr, optimizer: 'sgd', extra: { negatives: f.negatives } };
}
