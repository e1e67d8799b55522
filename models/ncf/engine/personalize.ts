import { T, type NcfArch } from '../arch.js';
import { gatherLocalParams, type LocalFitOptions } from './local-fit.js';
import { NcfNet, bceWithLogit, sigmoid } from './net.js';
import { userTableEntries } from './params.js';
import type { LocalPlan } from './plan.js';

/**
 * Tunes only the user's private rows against frozen shared weights (mini-batch SGD on the mean BCE):
 * on-device personalization between rounds. Training the shared tensors too (as a round does) lets
 * the liked items' rows and the MLP move instead, and the embedding then no longer fits the global
 * weights that recommend() scores with. Returns the private tensors after training and the mean loss.
 */
export function personalizeJs(
  a: NcfArch,
  shared: Map<string, Float32Array>,
  priv: Map<string, Float32Array>,
  plan: LocalPlan,
  o: LocalFitOptions,
): { privateAfter: Map<string, Float32Array>; loss: number } {
  const params = gatherLocalParams(a, shared, priv, plan.localItems);
  const net = new NcfNet(a, params, 1, plan.localItems.length);
  const g = net.grads;
  const gradTables = [g.itemGmf, g.itemMlp, g.itemBias, ...g.layerW, ...g.layerB, g.outW, g.outB];
  let loss = 0;
  let seen = 0;
  for (const { rows, labels } of plan.epochs) {
    for (let s = 0; s < rows.length; s += o.batchSize) {
      const count = Math.min(o.batchSize, rows.length - s);
      for (let k = s; k < s + count; k++) {
        const logit = net.forward(0, rows[k]!);
        loss += bceWithLogit(logit, labels[k]!);
        net.backward(0, rows[k]!, (sigmoid(logit) - labels[k]!) / count);
      }
      seen += count;
      for (const [name, row] of userTableEntries(a, params)) {
        const grad = name === T.userGmf ? g.userGmf : g.userMlp;
        for (let k = 0; k < row.length; k++) {
          row[k]! -= o.learningRate * grad[k]!;
          grad[k] = 0;
        }
      }
      for (const t of gradTables) t.fill(0); // the shared tensors stay as they are
    }
  }
  return { privateAfter: new Map(userTableEntries(a, params).map(([name, t]) => [name, t.slice()])), loss: seen ? loss / seen : 0 };
}
