/**
 * The strong centralized baseline, tuned as the field tunes it (PFedRec's protocol: per user the
 * latest interaction is the test item, the one before it the validation item): MF with 64 factors,
 * Adam, an L2 penalty, early stopping on validation HR@10. Chosen with `npm run bench --
 * centralized-tuning` (grid over lr / l2, each with early stopping, the winner picked on validation).
 * Measured on ML-100K (2-core machine under heavy shared load, seed 42), test HR@10 of the epoch
 * chosen on validation:
 * - lr 0.002, l2 0: val 0.678 at epoch 13 -> test 0.636 (overfits: train loss keeps falling);
 * - lr 0.002, l2 1e-3: val 0.448 at epoch 1 (underfits);
 * - lr 0.002, l2 1e-4: val 0.684 at epoch 19 -> test 0.624;
 * - lr 0.002, l2 3e-5: val 0.687 at epoch 8 -> test 0.647 (chosen: best on validation);
 * - lr 0.002, l2 1e-5, 8 negatives: val 0.678 at epoch 6;
 * - lr 0.002, l2 3e-5, refit on train + validation for 8 epochs: test 0.654 NDCG@10 0.377 (previous defaults).
 * - lr 0.002, l2 3e-5, 8 negatives, refit: val 0.698 at epoch 12 (best on validation so far, so these
 *   defaults) -> test 0.662 NDCG@10 0.394 (`npm run bench -- centralized-tuning --factors 64 --lr 0.002
 *   --l2 3e-5 --negatives 8 --refit --ensemble 3`, load average 22-33; init std 0.01 was at val 0.676
 *   by epoch 8 against 0.683 for 0.1 when that run was stopped for time).
 * Not yet at the 0.69 the field reports for MF-64 on this protocol; untried for lack of time on a
 * shared machine: lr 0.001 with more epochs, 16 negatives, larger batches, several seeds averaged
 * (`seeds`, wired but not yet measured to completion).
 * Test sits below validation: the latest interaction is harder to rank than the one before it, and
 * holding the validation item out costs each user its most recent training signal. `refit` (train
 * afresh on train + validation for the chosen epoch count, then test) gives that signal back.
 */
export const STRONG_BASELINE = {
  model: 'mf' as const,
  factors: 64,
  learningRate: 0.002,
  l2: 3e-5,
  negatives: 8,
  /** Embedding init standard deviation (recsysModelOptions' initStd). */
  initStd: 0.1,
  batchSize: 256,
  /** Most epochs; early stopping usually ends sooner. */
  maxEpochs: 40,
  /** Epochs without a better validation HR@10 before stopping. */
  patience: 3,
  /** Retrain on train + validation items for the epoch count chosen on validation (CentralizedOptions.refit). */
  refit: true,
  /** Seeds whose scores are averaged (recsys/baselines/seed-ensemble.ts); 1 = a single model. */
  seeds: 1,
};
