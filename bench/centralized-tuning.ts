// Tunes the strong centralized baseline as the field does (PFedRec's protocol): per user the latest
// interaction is the test item and the one before it the validation item; each configuration of a
// small grid trains with Adam and early stopping on validation HR@10; the grid's winner is chosen
// on validation too, and only then is its test HR@10 read. The winner goes into recsys/defaults.ts.
// Run: npm run bench -- centralized-tuning [--model mf] [--factors 32,64] [--lr 0.001,0.002] [--l2 0,1e-5] [--negatives 4,8]
import { Command } from 'commander';
import { ncfArch, type NcfKind } from '@fedrec/models/ncf/arch.js';
import { trainCentralized, type CentralizedOptions } from '@fedrec/recsys/baselines/centralized.js';
import { trainSeedEnsemble } from '@fedrec/recsys/baselines/seed-ensemble.js';
import { ML100K_PATH, loadMovieLensFile } from '@fedrec/recsys/data/files.js';
import { RECSYS_DEFAULTS, recsysModelOptions } from '@fedrec/recsys/defaults.js';
import { leaveOneOut } from '@fedrec/recsys/split.js';

const list = (v: string) => v.split(',').map(Number);
const o = new Command()
  .option('--data <path>', 'MovieLens u.data', ML100K_PATH)
  .option('--model <kind>', 'mf | gmf | mlp | neumf', 'mf')
  .option('--factors <list>', 'factor widths', list, [32, 64])
  .option('--lr <list>', 'Adam learning rates', list, [0.001, 0.002])
  .option('--l2 <list>', 'L2 penalties', list, [0, 1e-5])
  .option('--negatives <list>', 'sampled negatives per positive', list, [4])
  .option('--init-std <list>', 'embedding init standard deviations', list, [0.1])
  .option('--batch <n>', 'batch size', Number, 256)
  .option('--epochs <n>', 'most epochs per configuration', Number, 40)
  .option('--patience <n>', 'evaluations without a better validation HR@10 before stopping', Number, 3)
  .option('--seed <n>', 'seed', Number, 42)
  .option('--ensemble <n>', 'after choosing on validation, average the scores of n seeds of the winner (recsys/baselines/seed-ensemble.ts)', Number, 1)
  .option('--refit', 'after choosing the epoch count on validation, retrain on train + validation items and test that model')
  .parse()
  .opts<{
    data: string;
    model: NcfKind;
    factors: number[];
    lr: number[];
    l2: number[];
    negatives: number[];
    initStd: number[];
    batch: number;
    epochs: number;
    patience: number;
    seed: number;
    ensemble: number;
    refit?: boolean;
  }>();

const data = loadMovieLensFile(o.data);
const split = leaveOneOut(data, { seed: o.seed, negatives: RECSYS_DEFAULTS.split.negatives, validation: true });
const rows: Array<{
  config: string;
  valHr: number;
  testHr: number;
  testNdcg: number;
  epoch: number;
  seconds: number;
  result: ReturnType<typeof trainCentralized>;
  arch: ReturnType<typeof ncfArch>;
  options: CentralizedOptions;
}> = [];
for (const factors of o.factors)
  for (const learningRate of o.lr)
    for (const l2 of o.l2)
      for (const negatives of o.negatives)
        for (const initStd of o.initStd) {
          const arch = ncfArch(o.model, recsysModelOptions(split.numItems, { factors, initStd }));
          const t0 = Date.now();
          const options: CentralizedOptions = {
            epochs: o.epochs,
            batchSize: o.batch,
            learningRate,
            optimizer: 'adam',
            negatives,
            seed: o.seed,
            evalEvery: 1,
            l2,
            patience: o.patience,
            refit: o.refit ?? false,
          };
          const result = trainCentralized(arch, split.users, split.numUsers, options, (r) =>
            process.stderr.write(
              `  epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)} val HR@10 ${r.eval?.hr10.toFixed(4) ?? '-'} (${(r.elapsedMs / 1000).toFixed(0)} s)\n`,
            ),
          );
          const config = `${o.model} f=${factors} lr=${learningRate} l2=${l2} neg=${negatives} init=${initStd}${o.refit ? ' refit' : ''}`;
          const row = {
            config,
            valHr: result.validation!.hr10,
            testHr: result.final.hr10,
            testNdcg: result.final.ndcg10,
            epoch: result.bestEpoch,
            seconds: (Date.now() - t0) / 1000,
            result,
            arch,
            options,
          };
          rows.push(row);
          console.log(`${config.padEnd(44)} val HR@10 ${row.valHr.toFixed(4)}  (best epoch ${row.epoch} of ${result.epochsRun}, ${row.seconds.toFixed(0)} s)`);
        }
// Chosen on validation; the test figures are printed only after the choice.
const best = rows.reduce((a, b) => (b.valHr > a.valHr ? b : a));
console.log(
  `\nchosen on validation: ${best.config}: val HR@10 ${best.valHr.toFixed(4)} -> test HR@10 ${best.testHr.toFixed(4)} NDCG@10 ${best.testNdcg.toFixed(4)} (epoch ${best.epoch})`,
);
console.log('test figures of every configuration (for the record, not for choosing):');
for (const r of rows) console.log(`  ${r.config.padEnd(44)} test HR@10 ${r.testHr.toFixed(4)} NDCG@10 ${r.testNdcg.toFixed(4)}`);
if (o.ensemble > 1) {
  // The winner's settings with o.ensemble seeds (the winner itself is the first member), scores averaged.
  const t0 = Date.now();
  const e = trainSeedEnsemble(best.arch, split.users, split.numUsers, best.options, o.ensemble, [best.result]);
  console.log(
    `\nensemble of ${o.ensemble} seeds of the chosen configuration (members' chosen epochs ${e.members.map((m) => m.bestEpoch).join(', ')}, validation HR@10 ${e.members.map((m) => m.validation!.hr10.toFixed(4)).join(', ')}; ${((Date.now() - t0) / 1000).toFixed(0)} s): test HR@10 ${e.final.hr10.toFixed(4)} NDCG@10 ${e.final.ndcg10.toFixed(4)}`,
  );
  console.log(`  members' own test HR@10: ${e.members.map((m) => m.final.hr10.toFixed(4)).join(', ')}`);
}
