// New-item cold start on ML-100K: hold out the newest 10% of items (by first-seen time), train federated
// NeuMF on the rest, grow the catalogue with them (genres as tags) through the coordinator's own growth
// code, go on for a few rounds, and report HR@10 on each user's latest interaction with a new item.
// Run: npm run bench -- cold-items [--rounds-before 40] [--rounds-after 5]
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Catalogue } from '@fedrec/coordinator/catalogue.js';
import { growModel } from '@fedrec/coordinator/catalogue-growth.js';
import { createStrategy } from '@fedrec/coordinator/strategy/registry.js';
import type { Strategy } from '@fedrec/coordinator/strategy/strategy.js';
import { UpdateAccumulator } from '@fedrec/coordinator/strategy/update-accumulator.js';
import { RecsysTrainer, memoryPrivateStore, type PrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { neumfModel } from '@fedrec/models/neumf.js';
import { SeededRandom } from '@fedrec/models/random.js';
import type { CatalogueItem, ModelSpec, Weights } from '@fedrec/protocol';
import { ML100K_PATH, loadMovieLensFile, loadMovieLensItems } from '@fedrec/recsys/data/files.js';
import { RECSYS_DEFAULTS, recsysModelOptions, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';
import { heldOutMetrics } from '@fedrec/recsys/metrics.js';
import { sampleUnseen, type UserData } from '@fedrec/recsys/split.js';

const opts = new Command()
  .option('--data <path>', 'MovieLens u.data (u.item beside it has the genres)', ML100K_PATH)
  .option('--new-fraction <x>', 'share of items held out as new, by first-seen time', '0.1')
  .option('--rounds-before <n>', 'federated rounds on the old items', '40')
  .option('--rounds-after <n>', 'rounds after the catalogue grows', '5')
  .option('--seed <n>', 'seed', '1')
  .parse()
  .opts<{ data: string; newFraction: string; roundsBefore: string; roundsAfter: string; seed: string }>();

if (!existsSync(opts.data)) {
  console.log(`cold-items: ${opts.data} not found (ML-100K is not redistributed with fedrec); nothing measured`);
  process.exit(0);
}
const started = Date.now();
const data = loadMovieLensFile(opts.data);
const genresOf = new Map([...loadMovieLensItems(join(dirname(opts.data), 'u.item'))].map(([id, item]) => [id, item.genres]));

// Items by first-seen time; the last fraction are the new items, appended as rows n_old.. in that order.
const firstSeen = new Float64Array(data.numItems).fill(Infinity);
for (let r = 0; r < data.items.length; r++) firstSeen[data.items[r]!] = Math.min(firstSeen[data.items[r]!]!, data.timestamps[r]!);
const byTime = Array.from({ length: data.numItems }, (_, i) => i).sort((a, b) => firstSeen[a]! - firstSeen[b]! || a - b);
const numNew = Math.round(Number(opts.newFraction) * data.numItems);
const numOld = data.numItems - numNew;
const rowOf = new Int32Array(data.numItems);
byTime.forEach((item, row) => (rowOf[item] = row));
const catalogueItem = (row: number): CatalogueItem => {
  const mlId = data.itemIds[byTime[row]!]!;
  return { id: `ml-${mlId}`, tags: genresOf.get(mlId) ?? [] };
};
const cutoff = firstSeen[byTime[numOld]!]!;

// Per user: the latest interaction with a new item is the test; everything else trains.
const perUser = Array.from({ length: data.numUsers }, () => [] as Array<{ row: number; t: number }>);
for (let r = 0; r < data.items.length; r++) perUser[data.users[r]!]!.push({ row: rowOf[data.items[r]!]!, t: data.timestamps[r]! });
const numItems = data.numItems;
const rng = new SeededRandom(42);
const tests: UserData[] = [];
const trainAfter = new Map<number, Int32Array>();
const trainBefore = new Map<number, Int32Array>();
let newTrainInteractions = 0;
perUser.forEach((rows, user) => {
  const newOnes = rows.filter((x) => x.row >= numOld).sort((a, b) => a.t - b.t);
  const test = newOnes.at(-1);
  const train = rows.filter((x) => x !== test).map((x) => x.row);
  trainAfter.set(user, Int32Array.from(train).sort());
  trainBefore.set(user, Int32Array.from(train.filter((r) => r < numOld)).sort());
  newTrainInteractions += train.filter((r) => r >= numOld).length;
  if (test) {
    const seen = new Set(rows.map((x) => x.row));
    tests.push({ user, numItems, trainItems: Int32Array.from(train), testItem: test.row, testNegatives: sampleUnseen(rng, numItems, seen, 99) });
  }
});
console.log(
  `ML-100K: ${data.numUsers} users, ${numOld} old + ${numNew} new items (first seen after ${new Date(cutoff * 1000).toISOString().slice(0, 10)}); ` +
    `${newTrainInteractions} training interactions with new items; ${tests.length} users with a held-out new-item interaction`,
);

// ItemPop on the same test: training interactions per item (old and new).
const pop = new Float32Array(numItems);
for (const t of trainAfter.values()) for (const r of t) pop[r]!++;
const rankBy = (score: (u: UserData, items: Int32Array) => Float32Array | Promise<Float32Array>) => async () => {
  let hr = 0;
  let ndcg = 0;
  for (const u of tests) {
    const candidates = Int32Array.from([u.testItem, ...u.testNegatives]);
    const m = heldOutMetrics(await score(u, candidates), 10);
    hr += m.hr;
    ndcg += m.ndcg;
  }
  return { hr: hr / tests.length, ndcg: ndcg / tests.length };
};
const itemPop = await rankBy((_u, items) => Float32Array.from(items, (i) => pop[i]!))();

// Federated NeuMF with the SDK's trainer (plain-JS engine) and the coordinator's strategy and accumulator.
const config = recsysTrainingConfig();
interface Fleet {
  spec: ModelSpec;
  global: Weights;
  strategy: Strategy;
  stores: Map<number, PrivateStore & { entries: Map<string, Float32Array> }>;
  catalogue: Catalogue;
  modelVersion: number;
}
const seed = Number(opts.seed);
const trainerFor = (fleet: Fleet, user: number, items: Int32Array): RecsysTrainer => {
  const n = Number(fleet.spec.options['numItems']);
  const d: UserData = { user, numItems: n, trainItems: items, testItem: -1, testNegatives: new Int32Array(0) };
  return new RecsysTrainer({ data: d, store: fleet.stores.get(user)!, engine: 'js', seed });
};
async function round(fleet: Fleet, train: Map<number, Int32Array>, roundId: number): Promise<void> {
  const acc = new UpdateAccumulator(fleet.global.manifest);
  for (const [user, items] of train) {
    if (items.length === 0) continue;
    const r = await trainerFor(fleet, user, items).fit({ roundId, modelVersion: fleet.modelVersion, config, modelSpec: fleet.spec, global: fleet.global });
    acc.add(r.numExamples, r.delta, r.rowWeights);
  }
  const before = fleet.global.manifest;
  fleet.global = await fleet.strategy.aggregateFit(roundId, fleet.global, acc.sums, []);
  fleet.modelVersion += 1;
  fleet.catalogue.addPopularity(before, acc.sums.rowWeightSums, fleet.modelVersion);
}
/** HR@10 / NDCG@10 through the SDK trainer's own evaluate (logits, ties against the target), per test user. */
async function modelHr(fleet: Fleet): Promise<{ hr: number; ndcg: number }> {
  let hr = 0;
  let ndcg = 0;
  for (const u of tests) {
    const t = new RecsysTrainer({ data: u, store: fleet.stores.get(u.user)!, engine: 'js', seed });
    const m = await t.evaluate({ roundId: 0, modelVersion: fleet.modelVersion, config, modelSpec: fleet.spec, global: fleet.global });
    hr += m.metrics['hr10']!;
    ndcg += m.metrics['ndcg10']!;
  }
  return { hr: hr / tests.length, ndcg: ndcg / tests.length };
}

const options = recsysModelOptions(numOld);
const fleet: Fleet = {
  spec: { name: 'neumf', options },
  global: neumfModel.initialWeights(options, seed),
  strategy: createStrategy('fedavg', { serverLearningRate: RECSYS_DEFAULTS.federated.serverLr }),
  stores: new Map(Array.from({ length: data.numUsers }, (_, u) => [u, memoryPrivateStore()])),
  catalogue: Catalogue.of(Array.from({ length: numOld }, (_, r) => catalogueItem(r))),
  modelVersion: 0,
};
const t0 = Date.now();
for (let r = 1; r <= Number(opts.roundsBefore); r++) {
  await round(fleet, trainBefore, r);
  if (r % 10 === 0) console.log(`  round ${r} on ${numOld} old items (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
const roundsBefore = Number(opts.roundsBefore);

function cloneStore(s: { entries: Map<string, Float32Array> }): PrivateStore & { entries: Map<string, Float32Array> } {
  const out = memoryPrivateStore();
  for (const [k, v] of s.entries) out.entries.set(k, v.slice());
  return out;
}

/** Grows a copy of the trained fleet (with or without genre tags) and continues; HR@10 after each round. */
async function continueWith(tags: boolean, matchNorm: boolean): Promise<Array<{ rounds: number; hr: number; ndcg: number }>> {
  const copy: Fleet = {
    ...fleet,
    global: { manifest: fleet.global.manifest, body: fleet.global.body.slice() },
    strategy: createStrategy('fedavg', { serverLearningRate: RECSYS_DEFAULTS.federated.serverLr }),
    stores: new Map([...fleet.stores].map(([u, s]) => [u, cloneStore(s)])),
    catalogue: Catalogue.restore(fleet.catalogue.toJSON()),
  };
  const added = Array.from({ length: numNew }, (_, i) => catalogueItem(numOld + i)).map((it) => (tags ? it : { id: it.id }));
  const existing = tags ? copy.catalogue.all() : [];
  const grown = growModel(copy.global, copy.spec, existing, added, { seed: 1, matchNorm });
  copy.strategy.growRows?.(copy.global.manifest, grown.weights.manifest);
  copy.catalogue.append(added);
  copy.global = grown.weights;
  copy.spec = grown.modelSpec;
  const out = [{ rounds: 0, ...(await modelHr(copy)) }];
  for (let r = 1; r <= Number(opts.roundsAfter); r++) {
    await round(copy, trainAfter, roundsBefore + r);
    out.push({ rounds: r, ...(await modelHr(copy)) });
  }
  // The coordinator's popularity (row weights summed over rounds, negatives included) as a ranking.
  const p = copy.catalogue.popularity();
  const catPop = await rankBy((_u, items) => Float32Array.from(items, (i) => p[i] ?? 0))();
  console.log(
    `  catalogue popularity (${tags ? 'tags' : 'no tags'}${matchNorm ? ', norm matched' : ''} run, ${Number(opts.roundsAfter)} rounds after growth): HR@10 ${catPop.hr.toFixed(4)}`,
  );
  return out;
}
const withTags = await continueWith(true, false);
const withTagsNorm = await continueWith(true, true);
const withoutTags = await continueWith(false, false);

console.log('');
console.log(`new-item HR@10 / NDCG@10 (${tests.length} users; each user's latest new-item interaction vs 99 unseen items)`);
console.log(`ItemPop (training counts, old and new items)     HR@10 ${itemPop.hr.toFixed(4)}  NDCG@10 ${itemPop.ndcg.toFixed(4)}`);
console.log('rounds after growth | genre-tag prior HR@10 (NDCG) | tag prior, norm matched | mean-row prior');
const cell = (m: { hr: number; ndcg: number }) => `${m.hr.toFixed(4)} (${m.ndcg.toFixed(4)})`.padEnd(28);
withTags.forEach((w, i) => console.log(`${String(w.rounds).padStart(19)} | ${cell(w)} | ${cell(withTagsNorm[i]!)} | ${cell(withoutTags[i]!)}`));
const newCounts = Array.from({ length: numNew }, (_, i) => pop[numOld + i]!).sort((a, b) => a - b);
const oldCounts = Array.from({ length: numOld }, (_, i) => pop[i]!).sort((a, b) => a - b);
console.log(
  `training interactions per item, median: new ${newCounts[numNew >> 1]}, old ${oldCounts[numOld >> 1]} (ItemPop ranks a new item below most of the 99; ties count against it)`,
);
console.log(
  `federated NeuMF: ${roundsBefore} rounds on old items, then ${Number(opts.roundsAfter)}; total wall-clock ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
