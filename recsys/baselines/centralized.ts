import type { NcfArch } from '@fedrec/models/ncf/arch.js';
import { ncfInitialPrivate, ncfInitialWeights } from '@fedrec/models/ncf/init.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { splitShared } from '@fedrec/protocol';
import { NcfNet } from '@fedrec/models/ncf/engine/net.js';
import { denseEntries, itemTableEntries, userTableEntries, zeroParams, type NcfParams } from '@fedrec/models/ncf/engine/params.js';
import { heldOutMetrics } from '../metrics.js';
import type { EvalSummary } from '../evaluate.js';
import { negativeExclusions, userSeed, type NegativeExclusion, type UserData } from '../split.js';

export interface CentralizedOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'sgd' | 'adam';
  negatives: number;
  seed: number;
  evalEvery: number;
  /** L2 penalty l2/2·||θ||² on the rows and layers each step touches (0 = none). */
  l2?: number;
  /**
   * Early stopping: with validation items (split `validation: true`) the validation metric is read
   * every evalEvery epochs, training stops after this many evaluations without a better HR@10, and
   * the best epoch's parameters are restored; the test item is read once, for the chosen epoch.
   * Without validation items every epoch runs and the last one is reported.
   */
  patience?: number;
  /**
   * After choosing the epoch count on validation, train afresh on train + validation items for that
   * many epochs and report the test item on that model (the usual last step once hyper-parameters are
   * fixed: the validation interaction is the one nearest the test item in time). The test item is
   * still read once. Default false.
   */
  refit?: boolean;
  /**
   * Which held-out items are kept out of the sampled negatives (recsys/split.ts): default 'held-out'
   * (validation and test item, PFedRec's sampling); 'validation' never reads the test item in training.
   */
  negativeExclusion?: NegativeExclusion;
}

export interface CentralizedReport {
  epoch: number;
  trainLoss: number;
  elapsedMs: number;
  /** Validation metrics when the split has validation items, else test metrics (no selection then). */
  eval?: EvalSummary;
}

export interface CentralizedResult {
  net: NcfNet;
  history: CentralizedReport[];
  /** Test metrics of the chosen epoch (the best on validation, or the last without validation items). */
  final: EvalSummary;
  /** The epoch `final` comes from. */
  bestEpoch: number;
  /** Validation metrics of that epoch; null without validation items. */
  validation: EvalSummary | null;
  /** Epochs actually trained (fewer than asked when early stopping ended the run). */
  epochsRun: number;
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

/** Which held-out item an evaluation ranks: the test item, or the validation item (for selection). */
export type HeldOut = 'test' | 'validation';

/** The held-out item and its negatives; throws for 'validation' on a split without validation items. */
export function heldOutOf(u: UserData, which: HeldOut): { item: number; negatives: Int32Array } {
  if (which === 'test') return { item: u.testItem, negatives: u.testNegatives };
  if (u.validationItem === undefined || !u.validationNegatives) throw new Error(`user ${u.user} has no validation item (split with validation: true)`);
  return { item: u.validationItem, negatives: u.validationNegatives };
}

export function evaluateCentralized(net: NcfNet, users: UserData[], k = 10, which: HeldOut = 'test'): EvalSummary {
  return evaluateScores((user, item) => net.forward(user, item), users, k, which);
}

/** HR@k/NDCG@k of any scorer (one net, or the mean of several) on each user's held-out item and its negatives. */
export function evaluateScores(score: (user: number, item: number) => number, users: UserData[], k = 10, which: HeldOut = 'test'): EvalSummary {
  let hr = 0;
  let ndcg = 0;
  let loss = 0;
  for (const u of users) {
    const { item, negatives } = heldOutOf(u, which);
    const logits = new Float32Array(1 + negatives.length);
    logits[0] = score(u.user, item);
    negatives.forEach((neg, j) => (logits[j + 1] = score(u.user, neg)));
    const m = heldOutMetrics(logits, k);
    hr += m.hr;
    ndcg += m.ndcg;
    loss += m.loss;
  }
  const n = users.length || 1;
  return { hr10: hr / n, ndcg10: ndcg / n, loss: loss / n, users: users.length };
}

/** The user with its validation item moved into training (and no validation item left). */
function withValidationTrained(u: UserData): UserData {
  const trainItems = Int32Array.from([...u.trainItems, u.validationItem!]).sort();
  const copy = { user: u.user, numItems: u.numItems, trainItems, testNegatives: u.testNegatives } as UserData;
  // Forwarded, not copied: copying would read the test item before training, which the strict protocol
  // (negativeExclusion 'validation') promises never happens; the final evaluation reads it through this.
  Object.defineProperty(copy, 'testItem', { get: () => u.testItem, enumerable: true });
  return copy;
}

function copyParams(p: NcfParams): NcfParams {
  return {
    ...p,
    userGmf: p.userGmf.slice(),
    userMlp: p.userMlp.slice(),
    itemGmf: p.itemGmf.slice(),
    itemMlp: p.itemMlp.slice(),
    itemBias: p.itemBias.slice(),
    layerW: p.layerW.map((w) => w.slice()),
    layerB: p.layerB.map((b) => b.slice()),
    outW: p.outW.slice(),
    outB: p.outB.slice(),
  };
}

function restoreParams(into: NcfParams, from: NcfParams): void {
  for (const key of ['userGmf', 'userMlp', 'itemGmf', 'itemMlp', 'itemBias', 'outW', 'outB'] as const) into[key].set(from[key]);
  from.layerW.forEach((w, l) => into.layerW[l]!.set(w));
  from.layerB.forEach((b, l) => into.layerB[l]!.set(b));
}

/**
 * Mini-batch SGD or Adam over every user's positives plus sampled negatives, resampled each epoch;
 * with validation items, early stopping on validation HR@10 (see CentralizedOptions.patience).
 */
export function trainCentralized(
  a: NcfArch,
  users: UserData[],
  numUsers: number,
  o: CentralizedOptions,
  onEpoch?: (r: CentralizedReport) => void,
): CentralizedResult {
  const params = centralizedParams(a, users, numUsers, o.seed);
  const net = new NcfNet(a, params, numUsers, a.numItems, o.l2 ? { l2: o.l2 } : {});
  const validating = users.length > 0 && users.every((u) => u.validationItem !== undefined);
  const patience = o.patience ?? Number.POSITIVE_INFINITY;
  let best: { epoch: number; eval: EvalSummary; params: NcfParams } | undefined;
  let stale = 0;
  let epochsRun = 0;
  const rng = new SeededRandom(o.seed ^ 0x27d4eb2d);
  const history: CentralizedReport[] = [];
  const start = Date.now();
  let final: EvalSummary | undefined;
  const total = users.reduce((n, u) => n + u.trainItems.length * (1 + o.negatives), 0);
  const us = new Int32Array(total);
  const is = new Int32Array(total);
  const ys = new Float32Array(total);
  const order = new Int32Array(total);
  // Negatives are items the user never interacted with: held-out items are not drawn either
  // (PFedRec's sampling) unless o.negativeExclusion says otherwise. The held-out ids are read here, once,
  // before training, and only to keep them out of the negatives; under 'validation' or 'none' the test
  // item is not read at all. No metric reads the test item before the epoch is chosen.
  const excluded = users.map((u) => new Set([...u.trainItems, ...negativeExclusions(u, o.negativeExclusion)]));
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let s = 0;
    for (const [ui, u] of users.entries()) {
      const seen = excluded[ui]!;
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
    epochsRun = epoch;
    const report: CentralizedReport = { epoch, trainLoss: loss / total, elapsedMs: Date.now() - start };
    if (epoch % o.evalEvery === 0 || epoch === o.epochs) {
      if (validating) {
        // Selection reads the validation item only.
        const v = (report.eval = evaluateCentralized(net, users, 10, 'validation'));
        if (!best || v.hr10 > best.eval.hr10 || (v.hr10 === best.eval.hr10 && v.ndcg10 > best.eval.ndcg10)) {
          best = { epoch, eval: v, params: copyParams(params) };
          stale = 0;
        } else stale++;
      } else report.eval = final = evaluateCentralized(net, users);
    }
    history.push(report);
    onEpoch?.(report);
    if (stale >= patience) break;
  }
  if (best && o.refit) {
    // Validation items join training; nothing is evaluated until the chosen epoch count is done.
    const withValidation = users.map((u) => withValidationTrained(u));
    const refit = trainCentralized(a, withValidation, numUsers, { ...o, epochs: best.epoch, refit: false, evalEvery: Number.MAX_SAFE_INTEGER });
    return { net: refit.net, history, final: refit.final, bestEpoch: best.epoch, validation: best.eval, epochsRun };
  }
  if (best) {
    restoreParams(params, best.params);
    // The test item is read once, for the epoch validation chose.
    return { net, history, final: evaluateCentralized(net, users), bestEpoch: best.epoch, validation: best.eval, epochsRun };
  }
  return { net, history, final: final ?? evaluateCentralized(net, users), bestEpoch: epochsRun, validation: null, epochsRun };
}
