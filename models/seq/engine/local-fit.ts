import type { LocalFitOptions, LocalFitResult } from '../../ncf/engine/local-fit.js';
import type { LocalPlan } from '../../ncf/engine/plan.js';
import { TimeSlicer } from '../../yield-to-event-loop.js';
import { seqStateTensors, type SeqArch } from '../arch.js';
import { isSeqPlan, type SeqPlan } from '../plan.js';
import { bceWithLogit, SeqNet, sigmoid } from './net.js';
import { gatherSeqParams, seqDenseEntries, seqItemEntries, type SeqParams } from './params.js';

/** The plan must carry contexts; the optimizer must be SGD (the model's federated setting). */
export function checkSeqFit(plan: LocalPlan, o: LocalFitOptions): SeqPlan {
  if (!isSeqPlan(plan)) throw new Error('the seq model trains on sequence plans (planSequenceTraining): this plan has no contexts');
  if ((o.optimizer ?? 'sgd') !== 'sgd') throw new Error(`the seq model's engines train with "sgd", not "${String(o.optimizer)}"`);
  return plan;
}

/** The private state is the history itself: training leaves it as the trainer passed it (an absent tensor: empty). */
export function seqResult(a: SeqArch, plan: SeqPlan, before: SeqParams, after: SeqParams, loss: number, priv: Map<string, Float32Array>): LocalFitResult {
  const diff = (x: Float32Array, y: Float32Array) => x.map((v, k) => v - y[k]!);
  const itemsBefore = new Map(seqItemEntries(a, before));
  const denseBefore = new Map(seqDenseEntries(a, before));
  return {
    localItems: plan.localItems,
    rowCounts: plan.rowCounts,
    itemDeltas: new Map(seqItemEntries(a, after).map(([name, t]) => [name, diff(t, itemsBefore.get(name)!)])),
    denseDeltas: new Map(seqDenseEntries(a, after).map(([name, t]) => [name, diff(t, denseBefore.get(name)!)])),
    privateAfter: new Map(seqStateTensors(a).map(([name, n]) => [name, priv.get(name)?.slice() ?? new Float32Array(n).fill(-1)])),
    numExamples: plan.examplesPerEpoch,
    loss,
  };
}

function* fitSeqJsSteps(
  a: SeqArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): Generator<void, LocalFitResult, void> {
  const p = checkSeqFit(plan, o);
  const before = gatherSeqParams(a, shared, p.localItems);
  const params = gatherSeqParams(a, shared, p.localItems);
  const net = new SeqNet(a, params, p.localItems.length);
  net.setSequence(p.sequence);
  const L = a.seqLen;
  let loss = 0;
  let seen = 0;
  for (const { rows, labels, contexts, positions } of p.epochs) {
    for (let s = 0; s < rows.length; s += o.batchSize) {
      const count = Math.min(o.batchSize, rows.length - s);
      for (let k = s; k < s + count; k++) {
        net.encode(contexts, k * L, positions[k]!);
        const z = net.logit(rows[k]!);
        loss += bceWithLogit(z, labels[k]!);
        net.backward(contexts, k * L, rows[k]!, (sigmoid(z) - labels[k]!) / count);
      }
      net.step(o.learningRate);
      seen += count;
      yield;
    }
  }
  return seqResult(a, p, before, params, seen ? loss / seen : 0, priv);
}

/**
 * Plain-JS local training, giving the event loop a turn every few milliseconds (TimeSlicer) so a
 * device keeps its connection while it trains.
 */
export async function fitSeqJs(
  a: SeqArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<LocalFitResult> {
  const steps = fitSeqJsSteps(a, shared, priv, plan, o);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (slicer.due()) await slicer.pause();
  }
}
