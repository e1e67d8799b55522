import type { Compression, FitTask, ModelSpec, TrainingConfig } from '@fedrec/protocol';
import { numItemsOf } from './catalogue-growth.js';

/** What a task says about the bytes besides the model version: the catalogue version and the run's compression. */
export interface TaskWire {
  compression: Compression;
  catalogueVersion?: number;
}

/**
 * The body every fit and evaluate task carries (they share one shape on the wire). It names the
 * model version and never carries the weights: a device that already holds that version (from the
 * last fit, evaluation or recommend()) uses it, others fetch it once with model:get.
 */
export function taskFor(
  round: { roundId: number; modelVersion: number; deadline: number; modelSpec: ModelSpec; wire?: TaskWire },
  assignment: { taskId: string; config: TrainingConfig },
): FitTask {
  const wire = round.wire;
  return {
    taskId: assignment.taskId,
    roundId: round.roundId,
    modelVersion: round.modelVersion,
    ...(wire?.catalogueVersion !== undefined ? { catalogueVersion: wire.catalogueVersion } : {}),
    deadline: round.deadline,
    config: assignment.config,
    modelSpec: round.modelSpec,
    ...(wire && wire.compression !== 'none' ? { compression: wire.compression } : {}),
  };
}

/** The wire fields of this run's tasks: the compression, and the catalogue version when the model has a catalogue. */
export function taskWire(compression: Compression, state: { modelSpec: ModelSpec; catalogue: { catalogueVersion: number } }): TaskWire {
  return numItemsOf(state.modelSpec) === undefined ? { compression } : { compression, catalogueVersion: state.catalogue.catalogueVersion };
}
