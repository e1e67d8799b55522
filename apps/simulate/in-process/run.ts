// Node-only convenience: the in-process federated simulation, on worker threads when asked.
import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import type { UserData } from '@fedrec/recsys/split.js';
import type { EvalSummary } from '@fedrec/recsys/evaluate.js';
import { runFederated, type FederatedOptions, type RoundReport } from './federated.js';
import { createSimulationPool } from './pool.js';

export async function simulateFederated(
  a: NcfArch,
  users: UserData[],
  o: FederatedOptions,
  run: { workers?: number; onRound?: (r: RoundReport) => void } = {},
): Promise<{ shared: Map<string, Float32Array>; history: RoundReport[]; final: EvalSummary }> {
  const workers = run.workers ?? 1;
  const hooks = run.onRound ? { onRound: run.onRound } : {};
  if (workers <= 1) return runFederated(a, users, o, hooks);
  const pool = createSimulationPool(a, users, o, workers);
  try {
    return await runFederated(a, users, o, { ...hooks, runner: pool.runner, evaluate: pool.evaluate });
  } finally {
    await pool.close();
  }
}
