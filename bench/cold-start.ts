// Cold start and real time on ML-100K, on the SDK's own device path (LiveRecsysTrainer with its defaults).
// - Hold out the last 10% of users by first-seen time; train federated NeuMF on the rest in process (the
//   coordinator's strategy and accumulator, the devices' plain-JS engine: apps/simulate/in-process).
// - Held-out users: HR@10/NDCG@10 (He et al.: the latest interaction against 99 unseen items) when the
//   device knows their first 0, 1, 3 and 5 events, against ItemPop; with the popularity prior (the training
//   users' interaction counts, what the coordinator's catalogue would hand out) and without it (the
//   neutral-user fallback).
// - Real time: the share of a genre (u.item) in the top 10 before and after liking its 3 most popular
//   titles, and the latency from the last record() to the changed top 10, for today's path and for the
//   path before this change (random private init, 5 epochs of batch 32 at lr 0.05 on tfjs, full sort).
// Run: npm run bench -- cold-start [--rounds 60] [--genre-users 40]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { MemoryStore } from '@fedrec/client-sdk/store/memory-store.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { topK } from '@fedrec/client-sdk/trainers/top-k.js';
import { RecsysTrainer, memoryPrivateStore } from '@fedrec/client-sdk/trainers/recsys-trainer.js';
import { selectBackend } from '@fedrec/client-sdk/node/index.js';
import { ncfArch } from '@fedrec/models/ncf/arch.js';
import { SeededRandom } from '@fedrec/models/random.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { joinShared, type ModelSpec, type Weights } from '@fedrec/protocol';
import { ML100K_PATH, loadMovieLensFile, loadMovieLensItems } from '@fedrec/recsys/data/files.js';
import { RECSYS_DEFAULTS, recsysModelSpec } from '@fedrec/recsys/defaults.js';
import { heldOutMetrics } from '@fedrec/recsys/metrics.js';
import { holdOutLatest, sampleUnseen, userSeed, type UserData } from '@fedrec/recsys/split.js';
import { simulateFederated } from '@fedrec/simulate/in-process/run.js';

const opts = new Command()
  .option('--data <path>', 'MovieLens u.data (u.item beside it)', ML100K_PATH)
  .option('--rounds <n>', 'federated rounds', '60')
  .option('--holdout <fraction>', 'latest-first-seen share of users held out', '0.1')
  .option('--genre-users <n>', 'held-out users in the genre experiment', '40')
  .option('--model-cache <path>', 'reuse the trained global body from this file (written after training when absent)')
  .option('--workers <n>', 'worker threads for the federated training', String(RECSYS_DEFAULTS.simulationWorkers))
  .parse()
  .opts<{ data: string; rounds: string; holdout: string; genreUsers: string; workers: string; modelCache?: string }>();

if (!existsSync(opts.data)) {
  console.log(`no ${opts.data}: this benchmark needs MovieLens 100K (never copied into the repository)`);
  process.exit(0);
}
const started = Date.now();
const data = loadMovieLensFile(opts.data);
const numItems = data.numItems;

// Per user: interactions in time order; first-seen time orders the users.
const byUser: Array<Array<{ item: number; t: number }>> = Array.from({ length: data.numUsers }, () => []);
for (let r = 0; r < data.users.length; r++) byUser[data.users[r]!]!.push({ item: data.items[r]!, t: data.timestamps[r]! });
for (const list of byUser) list.sort((a, b) => a.t - b.t);
const order = byUser.map((l, u) => ({ u, first: l[0]?.t ?? Infinity })).sort((a, b) => a.first - b.first || a.u - b.u);
const cut = Math.round(order.length * (1 - Number(opts.holdout)));
const trainIds = order.slice(0, cut).map((o) => o.u);
const heldIds = order.slice(cut).map((o) => o.u);
console.log(
  `ML-100K: ${data.numUsers} users, ${numItems} items; training on the first ${trainIds.length} users by first-seen time, holding out the last ${heldIds.length}`,
);

// Federated training on the training users (each holds out its latest item for the round evaluation).
const trainUsers: UserData[] = trainIds.map((u) =>
  holdOutLatest(
    u,
    byUser[u]!.map((x) => x.item),
    byUser[u]!.map((x) => x.t),
    numItems,
    RECSYS_DEFAULTS.split,
  ),
);
const spec: ModelSpec = recsysModelSpec(numItems);
const manifest = defaultModelRegistry.definition(spec.name).manifest(spec.options);
let body: Float32Array;
if (opts.modelCache && existsSync(opts.modelCache)) {
  const bytes = readFileSync(opts.modelCache);
  body = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  console.log(`federated NeuMF: the trained body from ${opts.modelCache}`);
} else {
  const t0 = Date.now();
  const f = RECSYS_DEFAULTS.federated;
  const fed = await simulateFederated(
    ncfArch('neumf', spec.options),
    trainUsers,
    { ...f, rounds: Number(opts.rounds), clientsPerRound: trainUsers.length, seed: 1, evalEvery: Number(opts.rounds) },
    { workers: Number(opts.workers) },
  );
  body = joinShared(manifest, fed.shared);
  if (opts.modelCache) writeFileSync(opts.modelCache, body);
  console.log(
    `federated NeuMF: ${opts.rounds} rounds x ${trainUsers.length} devices in ${((Date.now() - t0) / 1000).toFixed(0)} s; training users' HR@10 ${fed.final.hr10.toFixed(4)}`,
  );
}
const weights: Weights = { manifest, body };

// Popularity over everything the training users did: the prior and ItemPop.
const popularity = new Float32Array(numItems);
for (const u of trainIds) for (const { item } of byUser[u]!) popularity[item]!++;

// Held-out users: the latest interaction is the target; 99 never-seen items are its negatives.
const held = heldIds.map((u) => {
  const list = byUser[u]!;
  const test = list[list.length - 1]!.item;
  const negatives = sampleUnseen(new SeededRandom(userSeed(42, u)), numItems, new Set(list.map((x) => x.item)), 99);
  return { u, list, test, negatives };
});
const candidates = (h: (typeof held)[number]) => [h.test, ...h.negatives];
const metricsOf = (scores: ArrayLike<number>, h: (typeof held)[number]) =>
  heldOutMetrics(
    Float32Array.from(candidates(h), (i) => scores[i]!),
    10,
  );
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / (xs.length || 1);

const pop = held.map((h) => metricsOf(popularity, h));
console.log(`\nheld-out users (${held.length}), HR@10 / NDCG@10, latest interaction vs 99 unseen items:`);
console.log(`| events known | ItemPop | LiveRecsysTrainer + popularity prior | LiveRecsysTrainer, no prior (neutral-user fallback) |`);
console.log(`| --- | --- | --- | --- |`);
for (const known of [0, 1, 3, 5]) {
  const withPrior: Array<{ hr: number; ndcg: number }> = [];
  const noPrior: Array<{ hr: number; ndcg: number }> = [];
  for (const h of held) {
    for (const [out, prior] of [
      [withPrior, popularity],
      [noPrior, undefined],
    ] as const) {
      const store = new MemoryStore();
      for (const { item, t } of h.list.slice(0, known)) await store.append({ itemId: item, kind: 'click', timestamp: t * 1000 });
      const trainer = new LiveRecsysTrainer({ store, user: h.u, ...(prior ? { prior: () => prior } : {}) });
      trainer.setGlobal(spec, weights, 1);
      out.push(metricsOf((await trainer.scores())!, h));
    }
  }
  const cell = (m: Array<{ hr: number; ndcg: number }>) => `${mean(m.map((x) => x.hr)).toFixed(4)} / ${mean(m.map((x) => x.ndcg)).toFixed(4)}`;
  console.log(`| ${known} | ${cell(pop)} | ${cell(withPrior)} | ${cell(noPrior)} |`);
}

// Real time: genre share in the top 10 before and after liking a genre's three most popular unseen titles.
const denseOf = new Map(data.itemIds.map((id, dense) => [id, dense]));
const genresOf = new Map<number, Set<string>>();
for (const [id, item] of loadMovieLensItems(join(dirname(opts.data), 'u.item'))) {
  const dense = denseOf.get(id);
  if (dense !== undefined) genresOf.set(dense, new Set(item.genres));
}
const byPopularity = Array.from(popularity.keys()).sort((x, y) => popularity[y]! - popularity[x]!);
const share = (items: number[], genre: string) => items.filter((i) => genresOf.get(i)?.has(genre)).length / (items.length || 1);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;

/** Today's device path: LiveRecsysTrainer with its defaults (re-personalizes inside recommend()). */
async function nowPath(h: (typeof held)[number], known: number, likes: number[]) {
  const store = new MemoryStore();
  for (const { item, t } of h.list.slice(0, known)) await store.append({ itemId: item, kind: 'click', timestamp: t * 1000 });
  const trainer = new LiveRecsysTrainer({ store, user: h.u, prior: () => popularity });
  trainer.setGlobal(spec, weights, 1);
  // Before: the top 10 over the same candidates as after (the titles about to be liked left out).
  const before = topK((await trainer.scores())!, 10, new Set([...h.list.slice(0, known).map((x) => x.item), ...likes]));
  let ms = 0;
  for (const [k, item] of likes.entries()) {
    const t = performance.now();
    await store.append({ itemId: item, kind: 'click', timestamp: 2e12 + k });
    const after = (await trainer.recommend(10)).map((r) => r.item);
    ms = performance.now() - t;
    if (k === likes.length - 1) return { before, after, ms };
  }
  return { before, after: before, ms };
}

/** The path before this change: random private init, 5 epochs of batch 32 at lr 0.05 after each like, tfjs, full sort. */
async function oldPath(h: (typeof held)[number], known: number, likes: number[]) {
  const priv = memoryPrivateStore();
  const liked = h.list.slice(0, known).map((x) => x.item);
  const trainerFor = () =>
    new RecsysTrainer({
      data: { user: h.u, numItems, trainItems: Int32Array.from(liked).sort(), testItem: -1, testNegatives: new Int32Array(0) },
      store: priv,
      engine: 'tfjs',
    });
  const personalizeAndRank = async (alsoExclude: number[] = []) => {
    if (liked.length > 0) {
      const config = { localEpochs: 5, batchSize: 32, learningRate: 0.05, optimizer: 'sgd' as const, extra: { negatives: 4 } };
      await trainerFor().fit({ roundId: liked.length, modelVersion: 0, modelSpec: spec, global: weights, config });
    }
    const t = trainerFor();
    t.setGlobal(spec, weights);
    return (await t.recommend(10, [...liked, ...alsoExclude])).map((r) => r.item);
  };
  const before = await personalizeAndRank(likes);
  let out = { before, after: before, ms: 0 };
  for (const item of likes) {
    const t = performance.now();
    liked.push(item);
    const after = await personalizeAndRank();
    out = { before, after, ms: performance.now() - t };
  }
  return out;
}

const backend = await selectBackend();
const genreUsers = held.slice(0, Number(opts.genreUsers));
console.log(
  `\nreal time: share of a genre in the top 10 before -> after liking its 3 most popular unseen titles (${genreUsers.length} held-out users; tfjs on ${backend} for the old path)`,
);
console.log(`| genre | events known | before this change | now | last record() -> changed top 10, median ms (before / now) |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const genre of ['Sci-Fi', 'Horror', 'Romance', "Children's", 'Western']) {
  for (const known of [0, 5]) {
    const rows: Record<'old' | 'now', { before: number[]; after: number[]; ms: number[] }> = {
      old: { before: [], after: [], ms: [] },
      now: { before: [], after: [], ms: [] },
    };
    for (const h of genreUsers) {
      const seen = new Set(h.list.slice(0, known).map((x) => x.item));
      const likes = byPopularity.filter((i) => genresOf.get(i)?.has(genre) && !seen.has(i)).slice(0, 3);
      for (const [name, path] of [
        ['old', oldPath],
        ['now', nowPath],
      ] as const) {
        const r = await path(h, known, likes);
        rows[name].before.push(share(r.before, genre));
        rows[name].after.push(share(r.after, genre));
        rows[name].ms.push(r.ms);
      }
    }
    const pct = (xs: number[]) => `${(100 * mean(xs)).toFixed(0)}%`;
    console.log(
      `| ${genre} | ${known} | ${pct(rows.old.before)} -> ${pct(rows.old.after)} | ${pct(rows.now.before)} -> ${pct(rows.now.after)} | ${median(rows.old.ms).toFixed(0)} / ${median(rows.now.ms).toFixed(0)} |`,
    );
  }
}
console.log(`\ntotal wall-clock: ${((Date.now() - started) / 1000).toFixed(0)} s`);
