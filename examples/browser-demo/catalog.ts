// Node side: the demo's data (ML-100K when present next to the repo, synthetic otherwise) and item titles.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateSyntheticInteractions } from '@fedrec/recsys/data/synthetic.js';
import { ML100K_PATH, loadMovieLensFile, loadMovieLensItems } from '@fedrec/recsys/data/files.js';
import type { InteractionDataset } from '@fedrec/recsys/data/types.js';
import type { Catalog } from './catalog-types.js';

export interface DemoData {
  dataset: InteractionDataset;
  catalog: Catalog;
}

/** u.item's titles (Latin-1; read at run time, never copied into the repository). */
function readMovieTitles(path: string): Map<string, string> {
  return new Map([...loadMovieLensItems(path)].map(([id, item]) => [id, item.title]));
}

const GENRES = ['drama', 'comedy', 'thriller', 'sci-fi', 'romance', 'documentary', 'animation', 'western'];

/** Loads MovieLens 100K from `dataPath` when it exists, else a seeded synthetic world with made-up titles. */
export function loadDemoData(dataPath: string | null = ML100K_PATH): DemoData {
  const useMovieLens = dataPath !== null && existsSync(dataPath);
  const dataset = useMovieLens ? loadMovieLensFile(dataPath) : generateSyntheticInteractions({ users: 300, items: 400 });
  const titles = useMovieLens && existsSync(join(dirname(dataPath), 'u.item')) ? readMovieTitles(join(dirname(dataPath), 'u.item')) : new Map<string, string>();
  const popularity = new Int32Array(dataset.numItems);
  for (const item of dataset.items) popularity[item]!++;
  const items = dataset.itemIds.map((sourceId, item) => ({
    item,
    title: titles.get(sourceId) ?? `Item ${item} (${GENRES[item % GENRES.length]})`,
    popularity: popularity[item]!,
  }));
  return { dataset, catalog: { source: useMovieLens ? 'movielens-100k' : 'synthetic', items } };
}
