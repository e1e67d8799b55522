import type { ModelSpec, TrainingConfig } from '@fedrec/protocol';

/**
 * Defaults for federated NeuMF on ML-100K-sized data, chosen with the in-process simulation
 * (bench/recsys-quality.ts; 2-core machine shared with other jobs, all 943 users every round).
 * Measured while choosing them (HR@10, He et al. protocol):
 * - centralized NeuMF f=8 (Adam 1e-3, batch 256): 0.643 at 20 epochs, peak 0.647 at 25, 0.639 at 40
 *   (it overfits after that); f=16 peaked at 0.628. ItemPop: 0.414.
 * - federated, client batch 32 / lr 0.5: stuck at the base-rate loss (0.50) for ~15 rounds (random
 *   private user rows make item gradients cancel), 0.40 at 30 rounds. Smaller batches with a larger
 *   per-example step break the plateau within ~10 rounds: batch 4 / lr 0.5 and batch 8 / lr 1 both
 *   0.49 at round 20. Batch 4 / lr 1: 0.63 at 40, then noisy (0.62-0.63 to round 60); with lr decay
 *   0.97/round 0.64 at 60. 3 local epochs (batch 32, lr 1) overfit each client and stalled at 0.41.
 *   A server lr of 3 on the rowwise average diverged.
 * - FINAL (these defaults, `npx tsx bench/recsys-quality.ts`): federated 0.6585 HR@10 / 0.3909 NDCG@10
 *   after 120 rounds (0.640 at 60, 0.662 at 100) in 291 s on 2 worker threads; centralized 0.6426 /
 *   0.3639 in 91 s; ratio 1.025; whole bench 383 s.
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
    rounds: 120,
    /** All users every round (943 on ML-100K); the bench passes the user count. */
    clientsPerRound: Number.MAX_SAFE_INTEGER,
    localEpochs: 1,
    batchSize: 4,
    clientLr: 0.5,
    serverLr: 1,
    negatives: 4,
  },
  centralized: { epochs: 20, batchSize: 256, learningRate: 0.001, optimizer: 'adam' as const, negatives: 4 },
  /** The simulation spreads clients over this many worker threads (one per core here). */
  simulationWorkers: 2,
};

/** Model options for a catalogue of `numItems` items. */
export function recsysModelOptions(
  numItems: number,
  override: Partial<{ factors: number; mlpDim: number; layers: string; initStd: number }> = {},
): ModelSpec['options'] {
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
