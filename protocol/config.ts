import { z } from 'zod';

const scalar = z.union([z.number(), z.string(), z.boolean()]);

/** Local training hyperparameters the coordinator sends with each fit task. */
export const trainingConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(1_000_000),
  learningRate: z.number().positive().max(1e6),
  optimizer: z.enum(['sgd', 'adam']),
  /**
   * FedProx's μ (Li et al. 2020): devices add μ/2·||w − w_global||² on the shared weights to their
   * local loss this round. Absent or 0 = plain local training. The coordinator may change it per round.
   */
  proximalMu: z.number().min(0).max(1e4).optional(),
  /** Model- or trainer-specific settings (negatives per positive, ...). */
  extra: z.record(z.string().max(64), scalar),
});
export type TrainingConfig = z.infer<typeof trainingConfigSchema>;

export const DEFAULT_TRAINING_CONFIG: TrainingConfig = {
  localEpochs: 1,
  batchSize: 64,
  learningRate: 0.01,
  optimizer: 'sgd',
  extra: {},
};

/** Names a model in the client's model registry, with its build options. */
export const modelSpecSchema = z.object({
  name: z.string().min(1).max(64),
  options: z.record(z.string().max(64), scalar),
});
export type ModelSpec = z.infer<typeof modelSpecSchema>;
