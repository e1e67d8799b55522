// The device benchmark's measurements, one catalogue size and one engine at a time. Universal: the
// same code runs in Node (bench/device.ts) and, bundled, in headless Chromium (bench/device/page.ts).
import { MemoryStore } from '@fedrec/client-sdk/store/memory-store.js';
import { LiveRecsysTrainer } from '@fedrec/client-sdk/trainers/live-recsys-trainer.js';
import { defaultModelRegistry } from '@fedrec/models/registry.js';
import { SeededRandom } from '@fedrec/models/random.js';
import type { ModelSpec, Weights } from '@fedrec/protocol';
import { recsysModelSpec, recsysTrainingConfig } from '@fedrec/recsys/defaults.js';

export interface DeviceRow {
  engine: string;
  items: number;
  /** recommend(10) after a new model version: the whole catalogue scored, ranked and explained. */
  recommendMedianMs: number;
  recommendP95Ms: number;
  /** CPU time of those calls (median), where the platform can tell (Node): the machine's load does not inflate it. */
  recommendCpuMs?: number;
  /** recommend(10) again with nothing changed (cached logits: top-k and explanations only). */
  cachedMedianMs: number;
  /** record() of a like, then recommend(10): re-personalization plus a scoring pass. */
  recordToRecsMedianMs: number;
  /** How many of those recommend() calls returned a different top 10 than the call before. */
  recordChanged: string;
  /** Local training through LiveRecsysTrainer.fit (the round task), default config: samples per second. */
  trainSamplesPerSec: number;
  runs: number;
}

export interface MeasureOptions {
  numItems: number;
  /** A registry engine name; undefined: LiveRecsysTrainer's default (what the SDK picks). */
  engine?: string;
  /** Per measurement: stop after this much time once `minRuns` are done. */
  budgetMs?: number;
  minRuns?: number;
  maxRuns?: number;
  log?: (line: string) => void;
  /** This process's CPU time so far in ms (Node: process.cpuUsage), to report CPU time beside wall time. */
  cpuMs?: () => number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** Synthetic global weights with the default model's sizes (NeuMF f=8, MLP 16x2 -> 16-8) for `numItems` items. */
export function syntheticModel(numItems: number): { spec: ModelSpec; weights: Weights; popularity: Float32Array } {
  const spec = recsysModelSpec(numItems);
  const weights = defaultModelRegistry.definition(spec.name).initialWeights(spec.options, 1);
  const rng = new SeededRandom(11);
  const popularity = new Float32Array(numItems);
  for (let i = 0; i < numItems; i++) popularity[i] = Math.floor(10_000 / (1 + rng.int(numItems)));
  return { spec, weights, popularity };
}

async function timed(o: MeasureOptions, run: (i: number) => Promise<unknown>, cpu?: number[]): Promise<number[]> {
  const budget = o.budgetMs ?? 3000;
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < (o.maxRuns ?? 50); i++) {
    if (times.length >= (o.minRuns ?? 5) && performance.now() - start > budget) break;
    const c0 = o.cpuMs?.() ?? 0;
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
    if (o.cpuMs) cpu?.push(o.cpuMs() - c0);
  }
  return times;
}

export async function measureDevice(o: MeasureOptions): Promise<DeviceRow> {
  const log = o.log ?? (() => undefined);
  const { spec, weights, popularity } = syntheticModel(o.numItems);
  // An engine named: rounds, personalization and scoring all on it; none: the SDK's own choices.
  const engine = o.engine ? { engine: o.engine, personalizeEngine: o.engine } : {};
  const rng = new SeededRandom(5);
  let version = 1;

  // A new user with the coordinator's popularity prior: each new model version rescoring everything.
  const cold = new LiveRecsysTrainer({ store: new MemoryStore(), user: 1, prior: () => popularity, ...engine });
  cold.setGlobal(spec, weights, version);
  await cold.recommend(10); // warm up (engine load, JIT, shaders)
  const recommendCpu: number[] = [];
  const recommend = await timed(
    o,
    async () => {
      cold.setGlobal(spec, weights, ++version);
      await cold.recommend(10);
    },
    recommendCpu,
  );
  const cached = await timed(o, () => cold.recommend(10));
  log(`  recommend: ${recommend.length} runs`);

  // A user with five likes records a sixth, then asks again.
  const store = new MemoryStore();
  const warm = new LiveRecsysTrainer({ store, user: 2, prior: () => popularity, ...engine });
  warm.setGlobal(spec, weights, version);
  for (let k = 0; k < 5; k++) await store.append({ itemId: rng.int(o.numItems), kind: 'click', timestamp: k });
  let last = (await warm.recommend(10)).map((r) => r.item).join();
  let changed = 0;
  const record = await timed(o, async (i) => {
    await store.append({ itemId: rng.int(o.numItems), kind: 'click', timestamp: 10 + i });
    const now = (await warm.recommend(10)).map((r) => r.item).join();
    if (now !== last) changed++;
    last = now;
  });
  log(`  record -> recommend: ${record.length} runs`);

  // One round's local training on a device with 100 liked items (the round task's own path).
  const trainStore = new MemoryStore();
  for (let k = 0; k < 100; k++) await trainStore.append({ itemId: (k * 7919) % o.numItems, kind: 'click', timestamp: k });
  const trainer = new LiveRecsysTrainer({ store: trainStore, user: 3, ...engine });
  const config = recsysTrainingConfig();
  let samples = 0;
  const fits = await timed({ ...o, minRuns: 3, maxRuns: 20 }, async (i) => {
    const out = await trainer.fit({ roundId: i + 1, modelVersion: version, config, modelSpec: spec, global: weights });
    samples += out.numExamples * config.localEpochs;
  });
  const fitMs = fits.reduce((s, t) => s + t, 0);

  return {
    engine: o.engine ?? 'default',
    items: o.numItems,
    recommendMedianMs: quantile(recommend, 0.5),
    recommendP95Ms: quantile(recommend, 0.95),
    ...(recommendCpu.length ? { recommendCpuMs: quantile(recommendCpu, 0.5) } : {}),
    cachedMedianMs: quantile(cached, 0.5),
    recordToRecsMedianMs: quantile(record, 0.5),
    recordChanged: `${changed}/${record.length}`,
    trainSamplesPerSec: samples / (fitMs / 1000),
    runs: recommend.length,
  };
}
