import { seqArch, type SeqArch } from '@fedrec/models/seq/arch.js';
import { recentOf, seqInitialWeights } from '@fedrec/models/seq/init.js';
import { SeqNet } from '@fedrec/models/seq/engine/net.js';
import { gatherSeqParams, type SeqParams } from '@fedrec/models/seq/engine/params.js';
import { sampleEpoch } from '@fedrec/models/local-rows.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { splitShared, type ModelSpec } from '@fedrec/protocol';
import { bceWithLogit } from '@fedrec/models/seq/engine/net.js';
import { heldOutMetrics } from '../metrics.js';
import type { EvalSummary } from '../evaluate.js';
import type { SequenceUserData } from '../data/sequences.js';
import { heldOutOf, type CentralizedReport, type HeldOut } from './centralized.js';
import { negativeExclusions, type NegativeExclusion } from '../split.js';

/**
 * The centralized baseline of the sequence model (models/seq): the same architecture, init, training
 * examples (every position of every user's time-ordered sequence, the next item against sampled
 * never-touched items) and evaluation as the federated run, with every user's data in one process and
 * one set of weights, trained by mini-batch SGD (the model's engines are SGD only).
 *
 * The protocol is PFedRec's, as the NCF baseline's (./centralized.ts): the validation item (the
 * interaction before the test item) is held out of training; the state it is ranked from is the
 * sequence before it; the epoch is chosen on validation HR@10 with early stopping; then the model is
 * retrained on the sequences with the validation item back in place for that many epochs, and the test
 * item is read once, ranked from the state that ends with the validation item (what a device knows at
 * test time).
 */
export interface SeqCentralizedOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  negatives: number;
  seed: number;
  /** Stop after this many epochs without a better validation HR@10 (default: run every epoch). */
  patience?: number;
  /** Retrain with the validation item for the chosen epoch count before reading the test item (default true). */
  refit?: boolean;
  /** Held-out items kept out of the sampled negatives, as in the NCF baselines (recsys/split.ts); default 'held-out'. */
  negativeExclusion?: NegativeExclusion;
}

/**
 * Defaults of the seq model's centralized run. SGD lr 0.05 at batch 4: on the first 300 ML-100K users
 * lr 0.5 (the federated clients' lr) left the training loss at 0.34 and validation HR@10 swinging
 * between 0.53 and 0.67 epoch to epoch, lr 0.05 reached validation 0.75.
 */
export const SEQ_CENTRALIZED = { batchSize: 4, learningRate: 0.05, negatives: 4, patience: 3, refit: true };

export interface SeqCentralizedResult {
  history: CentralizedReport[];
  /** Test metrics of the chosen epoch count. */
  final: EvalSummary;
  bestEpoch: number;
  /** Validation metrics of that epoch; null when the split has no validation items. */
  validation: EvalSummary | null;
  epochsRun: number;
}

/** A user's sequence for training and for each held-out item's state: the validation item out, or in. */
export function seqSplitOf(u: SequenceUserData): { withoutValidation: Int32Array; withValidation: Int32Array } {
  const full = u.trainSequence;
  if (u.validationItem === undefined) return { withoutValidation: full, withValidation: full };
  const at = full.lastIndexOf(u.validationItem);
  const without = at < 0 ? full : Int32Array.from([...full.subarray(0, at), ...full.subarray(at + 1)]);
  return { withoutValidation: without, withValidation: full };
}

/** One set of weights over the whole catalogue: the SeqNet's local rows are the global item ids. */
class WholeCatalogueSeq {
  readonly params: SeqParams;
  readonly net: SeqNet;
  private readonly ctx: Int32Array;

  constructor(
    readonly a: SeqArch,
    seed: number,
  ) {
    const init = seqInitialWeights(a, seed);
    const all = Int32Array.from({ length: a.numItems }, (_, i) => i);
    this.params = gatherSeqParams(a, splitShared(init.manifest, init.body), all);
    this.net = new SeqNet(a, this.params, a.numItems);
    this.ctx = new Int32Array(a.seqLen);
  }

  /** Loads the L items before position t of `seq` (most recent first, -1 empty) as the context. */
  context(seq: Int32Array, t: number): Int32Array {
    this.ctx.fill(-1);
    for (let l = 0; l < this.a.seqLen && t - 1 - l >= 0; l++) this.ctx[l] = seq[t - 1 - l]!;
    return this.ctx;
  }

  evaluate(users: readonly SequenceUserData[], which: HeldOut): EvalSummary {
    let hr = 0;
    let ndcg = 0;
    let loss = 0;
    for (const u of users) {
      const { item, negatives } = heldOutOf(u, which);
      const s = seqSplitOf(u);
      // The state: the last L items the user had touched when the held-out item came.
      const state = recentOf(this.a, which === 'validation' ? s.withoutValidation : s.withValidation);
      this.ctx.set(Int32Array.from(state));
      this.net.encode(this.ctx, 0);
      const logits = new Float32Array(1 + negatives.length);
      logits[0] = this.net.logit(item);
      negatives.forEach((neg, j) => (logits[j + 1] = this.net.logit(neg)));
      const m = heldOutMetrics(logits, 10);
      hr += m.hr;
      ndcg += m.ndcg;
      loss += m.loss;
    }
    const n = users.length || 1;
    return { hr10: hr / n, ndcg10: ndcg / n, loss: loss / n, users: users.length };
  }

  /** One epoch of mini-batch SGD over every position of every sequence, examples shuffled across users. */
  epoch(seqs: readonly Int32Array[], o: SeqCentralizedOptions, rng: SeededRandom, heldOut: readonly number[][]): number {
    const us: number[] = [];
    const ts: number[] = [];
    const items: number[] = [];
    const labels: number[] = [];
    seqs.forEach((seq, u) => {
      const exclude = new Set([...seq, ...(heldOut[u] ?? [])]);
      for (const [item, label, t] of sampleEpoch(rng, Array.from(seq), this.a.numItems, o.negatives, exclude)) {
        us.push(u);
        ts.push(t);
        items.push(item);
        labels.push(label);
      }
    });
    const order = rng.shuffle(Array.from(us, (_, k) => k));
    let loss = 0;
    for (let s = 0; s < order.length; s += o.batchSize) {
      const count = Math.min(o.batchSize, order.length - s);
      for (let b = s; b < s + count; b++) {
        const k = order[b]!;
        const ctx = this.context(seqs[us[k]!]!, ts[k]!);
        this.net.encode(ctx, 0);
        const z = this.net.logit(items[k]!);
        loss += bceWithLogit(z, labels[k]!);
        this.net.backward(ctx, 0, items[k]!, (1 / (1 + Math.exp(-z)) - labels[k]!) / count);
      }
      this.net.step(o.learningRate);
    }
    return order.length ? loss / order.length : 0;
  }

  snapshot(): SeqParams {
    const p = this.params;
    const itemIn = p.itemIn.slice();
    return {
      itemIn,
      itemOut: this.a.tied ? itemIn : p.itemOut.slice(),
      itemBias: p.itemBias.slice(),
      pos: p.pos.slice(),
      headW: p.headW.slice(),
      headB: p.headB.slice(),
      longW: p.longW.slice(),
      attnQ: p.attnQ.slice(),
      attnPos: p.attnPos.slice(),
    };
  }
}

function train(a: SeqArch, seqs: readonly Int32Array[], epochs: number, o: SeqCentralizedOptions, heldOut: readonly number[][]): WholeCatalogueSeq {
  const m = new WholeCatalogueSeq(a, o.seed);
  const rng = new SeededRandom(o.seed ^ 0x27d4eb2d);
  for (let e = 0; e < epochs; e++) m.epoch(seqs, o, rng, heldOut);
  return m;
}

/**
 * Trains the seq model centrally on the users of a validation split (see SeqCentralizedOptions); the
 * validation item chooses the epoch count, the test item is read once at the end.
 */
export function trainSeqCentralized(
  options: ModelSpec['options'],
  users: readonly SequenceUserData[],
  o: SeqCentralizedOptions,
  onEpoch?: (r: CentralizedReport) => void,
): SeqCentralizedResult {
  const a = seqArch(options);
  // Its examples are shuffled across users, so each would rebuild its user's running sums: not built here.
  if (a.longTerm) throw new Error('the centralized seq baseline does not implement the long-term term (longTerm): run it without');
  const validating = users.length > 0 && users.every((u) => u.validationItem !== undefined);
  const splits = users.map(seqSplitOf);
  // Read once, before training; under 'validation' or 'none' the test item is not read here at all.
  const heldOut = users.map((u) => negativeExclusions(u, o.negativeExclusion));
  const m = new WholeCatalogueSeq(a, o.seed);
  const rng = new SeededRandom(o.seed ^ 0x27d4eb2d);
  const patience = o.patience ?? Number.POSITIVE_INFINITY;
  const history: CentralizedReport[] = [];
  const start = Date.now();
  let best: { epoch: number; eval: EvalSummary; params: SeqParams } | undefined;
  let stale = 0;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const trainLoss = m.epoch(
      splits.map((s) => s.withoutValidation),
      o,
      rng,
      heldOut,
    );
    epochsRun = epoch;
    const report: CentralizedReport = { epoch, trainLoss, elapsedMs: Date.now() - start };
    if (validating) {
      // Selection reads the validation item only.
      const v = (report.eval = m.evaluate(users, 'validation'));
      if (!best || v.hr10 > best.eval.hr10 || (v.hr10 === best.eval.hr10 && v.ndcg10 > best.eval.ndcg10)) {
        best = { epoch, eval: v, params: o.refit === false ? m.snapshot() : m.params };
        stale = 0;
      } else stale++;
    }
    history.push(report);
    onEpoch?.(report);
    if (stale >= patience) break;
  }
  if (!best) return { history, final: m.evaluate(users, 'test'), bestEpoch: epochsRun, validation: null, epochsRun };
  if (o.refit === false) {
    for (const [key, value] of Object.entries(best.params) as Array<[keyof SeqParams, Float32Array]>) m.params[key].set(value);
    return { history, final: m.evaluate(users, 'test'), bestEpoch: best.epoch, validation: best.eval, epochsRun };
  }
  // The validation item joins training; nothing is evaluated until the chosen epoch count is done.
  const refit = train(
    a,
    splits.map((s) => s.withValidation),
    best.epoch,
    o,
    heldOut,
  );
  return { history, final: refit.evaluate(users, 'test'), bestEpoch: best.epoch, validation: best.eval, epochsRun };
}
