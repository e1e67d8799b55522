import type { ModelSpec, TrainingConfig } from '@fedrec/protocol';
import { RECSYS_DEFAULTS, recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { DEFAULT_SYNTHETIC } from '@fedrec/recsys/data/synthetic.js';
import { seqModelOptions } from '@fedrec/recsys/sequence-defaults.js';
import { modelTrainingDefaults } from '@fedrec/models/registry.js';

/**
 * The one place that decides what `npm start` trains when no flag says otherwise: the recommender
 * (NeuMF with recsys/defaults.ts), over a catalogue as large as the synthetic generator's default,
 * so the node-app example and the quickstart work against a bare `npm start`. A real catalogue
 * (e.g. a `--catalogue FILE` flag) hooks in by passing its size as `catalogueSize`.
 */
export const DEFAULT_MODEL_NAME = RECSYS_DEFAULTS.model;
export const DEFAULT_CATALOGUE_SIZE = DEFAULT_SYNTHETIC.items;

/** The recommender family whose options and training settings recsys/defaults.ts fills in. */
const RECSYS_MODELS: readonly string[] = ['neumf', 'gmf', 'mf', 'mlp'];

export function isRecsysModel(name: string): boolean {
  return RECSYS_MODELS.includes(name);
}

/**
 * The model spec for `name` with the options the operator gave: a recommender gets recsys/defaults.ts
 * (the seq model recsys/sequence-defaults.ts) for every option left out (numItems defaults to the
 * catalogue size); any other model takes its options as given.
 */
export function resolveModelSpec(name: string, given: ModelSpec['options'], catalogueSize: number = DEFAULT_CATALOGUE_SIZE): ModelSpec {
  const numItems = typeof given['numItems'] === 'number' ? given['numItems'] : catalogueSize;
  // The seq model's measured options (recsys/sequence-defaults.ts), as `simulate --model seq` trains it.
  if (name === 'seq') return { name, options: { ...seqModelOptions(numItems), ...given, numItems } };
  if (!isRecsysModel(name)) return { name, options: given };
  const factors = typeof given['factors'] === 'number' ? given['factors'] : undefined;
  return { name, options: { ...recsysModelOptions(numItems, factors === undefined ? {} : { factors }), ...given, numItems } };
}

/**
 * The client training settings a model gets when no flag sets them: recsys/defaults.ts for a recommender,
 * the recommender's settings under the model's own (ModelEntry.trainingDefaults: lr, negatives ...) for the seq model;
 * `--training-extra` replaces the extra settings, negatives included.
 */
export function defaultTrainingConfigFor(name: string): TrainingConfig | undefined {
  if (name === 'seq') {
    // The schedule is round config (cli-options.ts), not part of the fit config; negatives travel in its extra settings.
    const { clientLrSchedule: _schedule, negatives, ...own } = modelTrainingDefaults(name);
    const base = recsysTrainingConfig();
    return { ...base, ...own, ...(negatives !== undefined ? { extra: { ...base.extra, negatives } } : {}) };
  }
  return isRecsysModel(name) ? recsysTrainingConfig() : undefined;
}
