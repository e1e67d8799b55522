import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { splitShared } from '@fedrec/protocol';
import { NcfNet } from '@fedrec/models/ncf/engine/net.js';
import { denseEntries, itemTableEntries, userTableEntries, zeroParams, type NcfParams } from '@fedrec/models/ncf/engine/params.js';
import { heldOutMetrics } from '../metrics.js';
import type { EvalSummary } from '../evaluate.js';
import { userSeed, type UserData } from '../split.js';

export interface CentralizedOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'sgd' | 'adam';
  negatives: number;
  seed: number;
  evalEvery: number;
}

export interface CentralizedReport {
  epoch: number;
  trainLoss: number;
  elapsedMs: number;
  eval?: EvalSummary;
}

/** The same model, init, split and negatives as the federated run, all users' data in one process. */
export function centralizedParams(a: NcfArch, users: UserData[], numUsers: number, seed: number): NcfParams {
  const p = zeroParams(a, numUsers, a.numItems);
  const init = ncfInitialWeights(a, seed);
  const shared = splitShared(init.manifest, init.body);
  for (const [name, t] of [...itemTableEntries(a, p), ...denseEntries(a, p)]) t.set(shared.get(name)!);
  for (const u of users) {
    // Same per-user private init as the federated clients get.
    const priv = ncfInitialPrivate(a, userSeed(seed + 1, u.user));
    for (const [name, table, width] of userTableEntries(a, p)) table.set(priv.get(name)!, u.user * width);
  }
  return p;
}

export function evaluateCentralized(net: NcfNet, users: UserData[], k = 10): EvalSummary {
  let hr = 0;
  let ndcg = 0;
  let loss = 0;
  for (const u of users) {
    const logits = new Float32Array(1 + u.testNegatives.length);
    logits[0] = net.forward(u.user, u.testItem);
    u.testNegatives.forEach((item, j) => (logits[j + 1] = net.forward(u.user, item)));
    const m = heldOutMetrics(logits, k);
    hr += m.hr;
    ndcg += m.ndcg;
    loss += m.loss;
  }
  const n = users.length || 1;
  return { hr10: hr / n, ndcg10: ndcg / n, loss: loss / n, users: users.length };
}

/** Mini-batch SGD or Adam over every user's positives plus sampled negatives, resampled each epoch. */
export function trainCentralized(
  a: NcfArch,
  users: UserData[],
  numUsers: number,
  o: CentralizedOptions,
  onEpoch?: (r: CentralizedReport) => void,
): { net: NcfNet; history: CentralizedReport[]; final: EvalSummary } {
  const params = centralizedParams(a, users, numUsers, o.seed);
  const net = new NcfNet(a, params, numUsers, a.numItems);
  const rng = new SeededRandom(o.seed ^ 0x27d4eb2d);
  const history: CentralizedReport[] = [];
  const start = Date.now();
  let final: EvalSummary | undefined;
  const total = users.reduce((n, u) => n + u.trainItems.length * (1 + o.negatives), 0);
  const us = new Int32Array(total);
  const is = new Int32Array(total);
  const ys = new Float32Array(total);
  const order = new Int32Array(total);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let s = 0;
    for (const u of users) {
      const seen = new Set(u.trainItems);
      for (const item of u.trainItems) {
        us[s] = u.user;
        is[s] = item;
        ys[s++] = 1;
        for (let n = 0; n < o.negatives; n++) {
          let j = rng.int(a.numItems);
          while (seen.has(j)) j = rng.int(a.numItems);
          us[s] = u.user;
          is[s] = j;
          ys[s++] = 0;
        }
      }
    }
    for (let k = 0; k < total; k++) order[k] = k;
    for (let k = total - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      const t = order[k]!;
      order[k] = order[j]!;
      order[j] = t;
    }
    const bu = Int32Array.from(order, (k) => us[k]!);
    const bi = Int32Array.from(order, (k) => is[k]!);
    const by = Float32Array.from(order, (k) => ys[k]!);
    let loss = 0;
    for (let b = 0; b < total; b += o.batchSize) loss += net.trainBatch(bu, bi, by, b, Math.min(o.batchSize, total - b), o.learningRate, o.optimizer);
    const report: CentralizedReport = { epoch, trainLoss: loss / total, elapsedMs: Date.now() - start };
    if (epoch % o.evalEvery === 0 || epoch === o.epochs) report.eval = final = evaluateCentralized(net, users);
    history.push(report);
    onEpoch?.(report);
  }
  return { net, history, final: final ?? evaluateCentralized(net, users) };
}
