import { modelTrainingDefaults } from '@fedrec/models/registry.js';

/** The simulate flags a model may give its own defaults for (ModelEntry.trainingDefaults). */
export interface TrainingFlags {
  lr: number;
  localEpochs: number;
  batchSize: number;
  clientLrSchedule?: string;
  negatives: number;
}

/**
 * The flags with the model's registered client settings in place of the family's defaults: a setting
 * replaces a flag's value only where `given(flag)` says the user did not set it (commander's value source).
 */
export function withModelTrainingDefaults<F extends TrainingFlags>(model: string, flags: F, given: (flag: keyof TrainingFlags) => boolean): F {
  const own = modelTrainingDefaults(model);
  const out = { ...flags };
  if (own.learningRate !== undefined && !given('lr')) out.lr = own.learningRate;
  if (own.localEpochs !== undefined && !given('localEpochs')) out.localEpochs = own.localEpochs;
  if (own.batchSize !== undefined && !given('batchSize')) out.batchSize = own.batchSize;
  if (own.clientLrSchedule !== undefined && !given('clientLrSchedule')) out.clientLrSchedule = own.clientLrSchedule;
  if (own.negatives !== undefined && !given('negatives')) out.negatives = own.negatives;
  return out;
}
