import { DEFAULT_TRAINING_CONFIG, sharedSize } from '@fedrec/protocol';
import type { WeightManifest } from '@fedrec/protocol';
import type { FitAssignment, FitRoundContext } from '@fedrec/coordinator/fit-collector.js';

/**
 * Round 0 of a model of `manifest` (all zeros) with `selected` clients c0..c(n-1) assigned and no sockets:
 * what a PrivacyGuard needs to wrap a collector in a unit test. `extra` adds or replaces fields.
 */
export function fitRoundContext(manifest: WeightManifest, selected: number, extra: Partial<FitRoundContext> = {}): FitRoundContext {
  const assignments = Array.from({ length: selected }, (_, i): FitAssignment => ({
    clientId: `c${i}`,
    taskId: `t${i}`,
    socket: undefined as never,
    config: DEFAULT_TRAINING_CONFIG,
  }));
  return {
    roundId: 0,
    modelVersion: 0,
    global: { manifest, body: new Float32Array(sharedSize(manifest)) },
    modelSpec: { name: 'x', options: {} },
    deadline: 0,
    assignments,
    signal: new AbortController().signal,
    ...extra,
  } as never;
}
