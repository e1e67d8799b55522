import type { FitTask, ModelSpec, TrainingConfig, WireWeights } from '@fedrec/protocol';

/** The body every fit and evaluate task carries (they share one shape on the wire). */
export function taskFor(
  round: { roundId: number; modelVersion: number; deadline: number; modelSpec: ModelSpec },
  assignment: { taskId: string; config: TrainingConfig },
  weights: WireWeights,
): FitTask {
  return {
    taskId: assignment.taskId,
    roundId: round.roundId,
    modelVersion: round.modelVersion,
    deadline: round.deadline,
    config: assignment.config,
    modelSpec: round.modelSpec,
    weights,
  };
}
