// Node-only file readers; the parsers they call run anywhere.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDelimitedInteractions, type DelimitedOptions } from './delimited.js';
import { parseMovieLens } from './movielens.js';
import { parseMovieLensItems, type MovieLensItem } from './movielens-items.js';
import type { InteractionDataset } from './types.js';

/** ML-100K as shipped next to the repo (never copied into it: its licence forbids redistribution). */
export const ML100K_PATH = fileURLToPath(new URL('../../../shared/data/ml-100k/u.data', import.meta.url));

export function loadMovieLensFile(path: string = ML100K_PATH): InteractionDataset {
  return parseMovieLens(readFileSync(path, 'utf8'));
}

export function loadInteractionsFile(path: string, options: DelimitedOptions = {}): InteractionDataset {
  return parseDelimitedInteractions(readFileSync(path, 'utf8'), options);
}

/** u.item beside a u.data file (Latin-1), by MovieLens item id; empty when the file is absent. */
export function loadMovieLensItems(itemPath: string): Map<string, MovieLensItem> {
  return existsSync(itemPath) ? parseMovieLensItems(readFileSync(itemPath, 'latin1')) : new Map();
}
